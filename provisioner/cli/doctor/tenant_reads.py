"""The Microsoft Graph reads behind doctor's tenant checks: one reader per run, each read made once, and every
Graph failure turned into the reason a row could not be checked.

`TenantReads` opens the reader lazily (`DoctorDeps.graph`, else `GraphReader` signed in from the environment as
the azuread provider would be, with a 20 s budget per read and at most 3 attempts). A read that Graph refuses
(403) becomes `Unchecked` with status ``skipped`` and ``needs <permission>``; a sign-in that fails, an endpoint
that cannot be reached or a token Graph does not accept stops every later read with the same reason (so an
outage costs one time budget, not one per row). `GraphNotFound` is left to the caller: for a service principal
or an app it is the answer, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from provisioner.cli.doctor.base import DOCTOR_RETRY_SECONDS, DoctorDeps, Status
from provisioner.errors import (
    GraphError,
    GraphForbidden,
    GraphNotFound,
    GraphSignInError,
    GraphTransportError,
    GraphUnauthorized,
)

if TYPE_CHECKING:
    from provisioner.graph.reader import GraphReader

T = TypeVar("T")
DEPLOY_NEEDS = frozenset({"Application.Read.All"})
"""Graph permissions that ``pulumi up`` needs anyway (the others doctor asks for are for its own reads)."""
DOCTOR_GRAPH_ATTEMPTS = 3
"""Attempts per Graph read during doctor (a deployment-sized budget is not needed to answer a preflight)."""


class Unchecked(Exception):
    """A row that could not be checked: its status (``skipped`` or ``warning``), what happened, and the fix."""

    def __init__(self, status: Status, detail: str, fix: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.fix = fix


def default_reader(env: Mapping[str, str]) -> GraphReader:
    """The real reader: signed in from ``env`` (``ARM_*`` or the Azure CLI), ``PROVISIONER_GRAPH_URL`` honoured."""
    from provisioner.graph.reader import GraphReader
    from provisioner.transport.retry import RetryPolicy

    return GraphReader(
        env=env, retry=RetryPolicy(max_attempts=DOCTOR_GRAPH_ATTEMPTS, total_seconds=DOCTOR_RETRY_SECONDS)
    )


def _split_fix(message: str) -> tuple[str, str]:
    """``"what. Fix: how"`` → (what, how)."""
    what, _, how = message.partition(" Fix: ")
    return what.rstrip(". "), how.strip()


class TenantReads:
    """Cached Graph reads for one doctor run. Use as a context manager (closes the reader).

    Args:
        deps: Where the environment and the reader factory (`DoctorDeps.graph`) come from.
    """

    def __init__(self, deps: DoctorDeps) -> None:
        self._deps = deps
        self._reader: GraphReader | None = None
        self._stopped: Unchecked | None = None
        self._cache: dict[str, Any] = {}

    def __enter__(self) -> TenantReads:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.close()

    def read(self, key: str, call: Callable[[GraphReader], T]) -> T:
        """``call(reader)``, once per ``key`` (its result, or its exception, is kept).

        Raises:
            Unchecked: Graph refused the read (``skipped``, ``needs …``), no sign-in works (``skipped``), or Graph
                could not be read (``warning``).
            GraphNotFound: The object does not exist (the caller decides what that means).
        """
        if key not in self._cache:
            try:
                self._cache[key] = call(self._open())
            except (Unchecked, GraphNotFound) as err:
                self._cache[key] = err
            except GraphError as err:
                self._cache[key] = self._unchecked(err)
        found = self._cache[key]
        if isinstance(found, Exception):
            raise found
        return found  # type: ignore[no-any-return]

    def _open(self) -> GraphReader:
        if self._stopped is not None:
            raise self._stopped
        if self._reader is None:
            factory = self._deps.graph or default_reader
            try:
                self._reader = factory(self._deps.env)
            except GraphError as err:
                raise self._unchecked(err) from None
        return self._reader

    def _unchecked(self, err: GraphError) -> Unchecked:
        if isinstance(err, GraphForbidden):
            needs = err.needs or "a Microsoft Graph permission"
            extra = [p for p in err.permissions if p not in DEPLOY_NEEDS]
            why = (
                f"{' and '.join(extra)} is read-only and only doctor needs it"
                if extra
                else "pulumi up needs it too, to read the resource APIs' scopes"
            )
            return Unchecked(
                Status.SKIPPED,
                f"needs {needs} (Microsoft Graph refused the read: {err.status} {err.code or 'Forbidden'})",
                f"to run this check, give the identity running doctor the Graph permission {needs} ({why}), or run "
                "doctor as someone who has it",
            )
        if isinstance(err, GraphSignInError):
            what, how = _split_fix(str(err))
            self._stopped = Unchecked(Status.SKIPPED, f"no Azure sign-in for Microsoft Graph: {what}", how)
        elif isinstance(err, GraphTransportError | GraphUnauthorized) or self._reader is None:
            what, how = _split_fix(str(err))
            self._stopped = Unchecked(
                Status.WARNING,
                f"Microsoft Graph could not be read: {what}",
                how or "check the network (HTTPS_PROXY), PROVISIONER_GRAPH_URL and the sign-in, then run doctor again",
            )
        else:
            what, how = _split_fix(str(err))
            return Unchecked(Status.WARNING, f"Microsoft Graph could not be read: {what}", how or "run doctor again")
        return self._stopped
