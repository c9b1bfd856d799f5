"""Drive the Pulumi SDK's real dynamic provider process over gRPC, the way the Pulumi engine does.

The engine runs a dynamic resource's CRUD in a separate process, ``python -m pulumi.dynamic`` (what the
``pulumi-resource-pulumi-python`` plugin script execs), which prints its gRPC port on stdout and then serves
``pulumirpc.ResourceProvider`` with 4 worker threads. `ProviderProcess` starts that process with the
environment a deployment gives it (``PARAGON_*`` variables, the project importable) and always stops it;
`Engine` speaks to it as the engine does:

* every resource's inputs carry ``__provider``, the provider object serialized with dill exactly as the
  SDK's ``pulumi.dynamic.Resource`` does (`provider_blob`), marked secret like the SDK marks it;
* secrets (`Secret`) are sent in Pulumi's secret wire form only when the provider's Configure answer
  accepts secrets; the SDK's dynamic provider answers ``acceptSecrets: false``, so the engine (and this
  harness) strips them to plain values;
* values not known during preview are sent as the engine's sentinel string `UNKNOWN`
  (``04da6b54-80e4-46f7-96ec-b56ff0331ba9``) inside the protobuf Struct;
* `Engine.up` runs one resource's step the way the engine's step generator does: Check, then Create, or Diff
  then Update / Same / a replacement whose order follows ``deleteBeforeReplace`` (the provider's Diff answer
  or the resource option), and Delete of the old resource.

Every wait is bounded: process start (`STARTUP_SECONDS`), each gRPC call (`CALL_SECONDS`), process stop.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime._serialization import _serialize
from pulumi.runtime.proto import provider_pb2_grpc

UNKNOWN: Final = rpc.UNKNOWN
"""The engine's wire sentinel for a value not known yet (preview)."""
PROVIDER_KEY: Final = "__provider"
STARTUP_SECONDS: Final = 30.0
CALL_SECONDS: Final = 60.0
STOP_SECONDS: Final = 5.0
RESOURCE_TYPE: Final = "pulumi-python:dynamic/paragon:OAuthCredential"


@dataclass(frozen=True)
class Secret:
    """A value the engine holds as a Pulumi secret."""

    value: Any


def provider_blob(provider: ResourceProvider) -> str:
    """The provider serialized as ``pulumi.dynamic.Resource`` does it (dill, base64), for ``__provider``."""
    blob, _contains_secrets = _serialize(True, serialize_provider, provider)
    return str(blob)


def urn(name: str, stack: str = "dev", project: str = "paragon-provisioner") -> str:
    """The URN the engine would give an `OAuthCredential` named ``name``."""
    return f"urn:pulumi:{stack}::{project}::{RESOURCE_TYPE}::{name}"


def _value(value: Any, keep_secrets: bool) -> Any:
    """A Python value (with `Secret` markers) as JSON for a protobuf Struct, secrets kept or stripped."""
    if isinstance(value, Secret):
        inner = _value(value.value, keep_secrets)
        return {rpc._special_sig_key: rpc._special_secret_sig, "value": inner} if keep_secrets else inner
    if isinstance(value, dict):
        return {k: _value(v, keep_secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_value(v, keep_secrets) for v in value]
    return value


def to_struct(props: dict[str, Any], *, keep_secrets: bool) -> struct_pb2.Struct:
    """Marshal properties as the engine does for a provider (``KeepSecrets`` = the provider's acceptSecrets)."""
    struct = struct_pb2.Struct()
    struct.update(_value(props, keep_secrets))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct from the provider as plain Python data."""
    data = json_format.MessageToDict(struct)
    assert isinstance(data, dict)
    return data


class ProviderCallError(Exception):
    """A provider RPC failed; ``details`` is what the engine would show (the SDK sends a traceback)."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        self.method = method
        self.code = code
        self.details = details
        super().__init__(f"{method}: {code.name}: {details}")


class ProviderProcess:
    """``python -m pulumi.dynamic`` in a child process, as the engine starts it; a context manager.

    Args:
        env: The whole environment of the process (the caller decides which ``PARAGON_*`` it gets).
        cwd: Working directory (the project root, as under ``pulumi up``).
    """

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._env = env
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.port = 0

    def start(self) -> ProviderProcess:
        """Start the process, read its port (bounded wait) and connect; stops it again on any failure."""
        self._stderr = tempfile.TemporaryFile()  # closed in stop()
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env=self._env,
            cwd=self._cwd,
        )
        try:
            self.port = self._read_port()
            self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            grpc.channel_ready_future(self.channel).result(timeout=STARTUP_SECONDS)
        except BaseException:
            self.stop()
            raise
        return self

    def _read_port(self) -> int:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        stdout = proc.stdout
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            raise TimeoutError(f"the dynamic provider printed no port within {STARTUP_SECONDS} s") from None
        if not line.strip().isdigit():
            raise RuntimeError(f"the dynamic provider did not start: {line!r}; stderr: {self.stderr_text()}")
        return int(line)

    def stderr_text(self) -> str:
        """Everything the process wrote to stderr so far."""
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        """Close the channel and end the process (terminate, then kill); idempotent, every wait bounded."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=STOP_SECONDS)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()

    def __enter__(self) -> ProviderProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class State:
    """One resource in the engine's state: ID, the checked inputs and the provider's outputs."""

    id: str
    urn: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class Diff:
    """The provider's Diff answer."""

    changes: int
    replaces: list[str]
    delete_before_replace: bool

    @property
    def some(self) -> bool:
        return self.changes == proto.DiffResponse.DIFF_SOME


@dataclass
class Engine:
    """The engine's side of the provider protocol, against one `ProviderProcess`.

    Attributes:
        accept_secrets: From the provider's Configure answer; decides how secrets are marshalled.
        ops: The provider calls made by `up`, e.g. ``["Check", "Diff", "Delete", "Create"]``.
    """

    process: ProviderProcess
    accept_secrets: bool = False
    ops: list[str] = field(default_factory=list)

    @property
    def _stub(self) -> Any:
        assert self.process.channel is not None, "the provider process is not running"
        return provider_pb2_grpc.ResourceProviderStub(self.process.channel)

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=CALL_SECONDS)
        except grpc.RpcError as err:
            call: Any = err
            raise ProviderCallError(method, call.code(), str(call.details())) from None

    def _struct(self, props: dict[str, Any]) -> struct_pb2.Struct:
        return to_struct(props, keep_secrets=self.accept_secrets)

    def configure(self, variables: dict[str, str] | None = None) -> None:
        """Configure (stack config of the provider's package); records whether it accepts secrets."""
        variables = variables or {}
        request = proto.ConfigureRequest(
            variables=variables,
            args=to_struct(dict(variables), keep_secrets=False),
            acceptSecrets=True,
            acceptResources=True,
        )
        self.accept_secrets = bool(self._call("Configure", request).acceptSecrets)

    def check(
        self, urn_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Check → (checked inputs, [(property, reason)])."""
        request = proto.CheckRequest(urn=urn_, olds=self._struct(olds), news=self._struct(news))
        response = self._call("Check", request)
        return from_struct(response.inputs), [(f.property, f.reason) for f in response.failures]

    def diff(self, state: State, news: dict[str, Any]) -> Diff:
        """Diff of the state's outputs against checked new inputs."""
        request = proto.DiffRequest(
            id=state.id,
            urn=state.urn,
            olds=self._struct(state.outputs),
            news=self._struct(news),
            old_inputs=self._struct(state.inputs),
        )
        response = self._call("Diff", request)
        return Diff(response.changes, list(response.replaces), bool(response.deleteBeforeReplace))

    def create(self, urn_: str, inputs: dict[str, Any]) -> State:
        """Create from checked inputs → the new state."""
        response = self._call("Create", proto.CreateRequest(urn=urn_, properties=self._struct(inputs)))
        return State(response.id, urn_, inputs, from_struct(response.properties))

    def update(self, state: State, news: dict[str, Any]) -> State:
        """Update → the new state (same ID)."""
        request = proto.UpdateRequest(
            id=state.id,
            urn=state.urn,
            olds=self._struct(state.outputs),
            news=self._struct(news),
            old_inputs=self._struct(state.inputs),
        )
        response = self._call("Update", request)
        return State(state.id, state.urn, news, from_struct(response.properties))

    def read(
        self, id_: str, urn_: str, properties: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Read (``pulumi refresh`` passes the state's outputs and inputs) → (ID, outputs); "" when gone."""
        request = proto.ReadRequest(id=id_, urn=urn_, properties=self._struct(properties), inputs=self._struct(inputs))
        response = self._call("Read", request)
        return response.id, from_struct(response.properties)

    def refresh(self, state: State) -> State | None:
        """``pulumi refresh`` of one resource: None when the provider says it is gone."""
        id_, outputs = self.read(state.id, state.urn, state.outputs, state.inputs)
        return State(id_, state.urn, state.inputs, outputs) if id_ else None

    def delete(self, state: State) -> None:
        """Delete the resource in ``state``."""
        request = proto.DeleteRequest(
            id=state.id, urn=state.urn, properties=self._struct(state.outputs), old_inputs=self._struct(state.inputs)
        )
        self._call("Delete", request)

    def up(
        self,
        urn_: str,
        inputs: dict[str, Any],
        old: State | None = None,
        *,
        replace: bool = False,
        delete_before_replace_option: bool = False,
    ) -> State:
        """One resource's step in ``pulumi up``, in the engine's order; the calls go to `ops`.

        Args:
            urn_: The resource's URN.
            inputs: The program's inputs (with ``__provider``).
            old: The resource's state from the last deployment, if any.
            replace: Replace even without a diff (``pulumi up --replace`` / ``--target-replace``).
            delete_before_replace_option: The resource's ``delete_before_replace`` option.

        Raises:
            ProviderCallError: A call failed; or Check reported failures (method ``Check``).
        """
        checked, failures = self.check(urn_, old.inputs if old else {}, inputs)
        self.ops.append("Check")
        if failures:
            raise ProviderCallError("Check", grpc.StatusCode.INVALID_ARGUMENT, repr(failures))
        if old is None:
            self.ops.append("Create")
            return self.create(urn_, checked)
        diff = self.diff(old, checked)
        self.ops.append("Diff")
        if replace or diff.replaces:
            if diff.delete_before_replace or delete_before_replace_option:
                self.ops += ["Delete", "Create"]
                self.delete(old)
                return self.create(urn_, checked)
            self.ops += ["Create", "Delete"]
            new = self.create(urn_, checked)
            self.delete(old)
            return new
        if diff.some:
            self.ops.append("Update")
            return self.update(old, checked)
        return old


def provider_env(base: dict[str, str], paragon: dict[str, str], project_dir: Path) -> dict[str, str]:
    """The provider process's environment: ``base`` without any ``PARAGON_*``, plus ``paragon``, with the
    project importable (``PYTHONPATH``) as it is from the project's virtual environment."""
    env = {k: v for k, v in base.items() if not k.startswith("PARAGON_")}
    env.update(paragon)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(project_dir), env.get("PYTHONPATH", "")) if p)
    env["PULUMI_PROJECT"] = "paragon-provisioner"
    return env
