"""Where the Paragon login and API host come from: the environment (or secret stack config) at call time.

Fixed interface (README): ``PARAGON_ACCESS_TOKEN``, or ``PARAGON_EMAIL`` + ``PARAGON_PASSWORD``; and
``PARAGON_BASE_URL`` overriding ``paragon.base_url``. The login never becomes a Pulumi resource input, so
it never reaches state.

Values read from a secret store often carry a trailing newline or spaces: every value is trimmed, a value
empty after trimming counts as unset, and one that still contains a control character is refused at once
(`InvalidEnvironmentValue`, naming the variable, never its value) instead of failing at Paragon later.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from provisioner.config import check_base_url
from provisioner.errors import ConfigError, InvalidEnvironmentValue, ParagonLoginMissing, Problem
from provisioner.transport.env_secrets import remember_secrets

ENV_ACCESS_TOKEN = "PARAGON_ACCESS_TOKEN"
ENV_EMAIL = "PARAGON_EMAIL"
ENV_PASSWORD = "PARAGON_PASSWORD"
ENV_BASE_URL = "PARAGON_BASE_URL"

STACK_CONFIG_KEYS = {
    "access_token": "paragonAccessToken",
    "email": "paragonEmail",
    "password": "paragonPassword",
}
"""Secret stack config keys (project namespace) read by the dynamic provider's ``configure``."""


@dataclass(frozen=True)
class ParagonLogin:
    """How to authenticate: a ready access token, an email + password, or both (token first).

    Secrets are `SecretStr`: the repr shows ``**********``.
    """

    access_token: SecretStr | None = None
    email: str | None = None
    password: SecretStr | None = None

    @property
    def can_log_in(self) -> bool:
        """True when an email and password allow a (re-)login."""
        return bool(self.email and self.password)

    @property
    def identity(self) -> str:
        """A stable, non-secret key for caching per login: the email, or a short hash of the token."""
        if self.email:
            return f"email:{self.email.lower()}"
        token = self.access_token.get_secret_value() if self.access_token else ""
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:12]

    def secrets(self) -> list[str]:
        """Every secret value of this login, for scrubbing text before it is shown."""
        return [s.get_secret_value() for s in (self.access_token, self.password) if s is not None]


def clean_value(name: str, value: str | None) -> str | None:
    """Trim surrounding whitespace; None when unset or empty after trimming.

    Args:
        name: The variable or stack config key, used in the error message.
        value: The raw value.

    Raises:
        InvalidEnvironmentValue: A control character remains inside the value (the value is never shown).
    """
    if value is None:
        return None
    trimmed = value.strip()
    if not trimmed:
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in trimmed):
        raise InvalidEnvironmentValue(
            f"{name}: the value contains a control character (a line break, tab or similar) inside it. "
            "Fix: set it again without one (copy the value alone, e.g. `printf %s`)"
        )
    return trimmed


def login_from(env: Mapping[str, str], stack_config: Mapping[str, str] | None = None) -> ParagonLogin:
    """Resolve the Paragon login: environment first, then secret stack config.

    Args:
        env: Usually ``os.environ``.
        stack_config: Values of `STACK_CONFIG_KEYS` from ``pulumi config set --secret``, if any.

    Every value goes through `clean_value` (trimmed; empty counts as unset). A token or password taken from
    ``stack_config`` is remembered (`remember_secrets`), so every message this process shows is scrubbed of it.

    Raises:
        ParagonLoginMissing: Neither source has a token nor an email with a password.
        InvalidEnvironmentValue: A value holds a control character after trimming.
    """
    config = stack_config or {}
    names = [STACK_CONFIG_KEYS[k] for k in ("access_token", "email", "password")]
    sources = (
        tuple(clean_value(n, env.get(n)) for n in (ENV_ACCESS_TOKEN, ENV_EMAIL, ENV_PASSWORD)),
        tuple(clean_value(f"stack config {n}", config.get(n)) for n in names),
    )
    for index, (token, email, password) in enumerate(sources):
        if token or (email and password):
            if index == 1:  # read from secret stack config: scrubbed from every message like the environment's
                remember_secrets(token, password)
            return ParagonLogin(
                access_token=SecretStr(token) if token else None,
                email=email or None,
                password=SecretStr(password) if (email and password) else None,
            )
    raise ParagonLoginMissing(
        f"no Paragon login: set {ENV_ACCESS_TOKEN}, or {ENV_EMAIL} and {ENV_PASSWORD} (a Paragon user with "
        "admin rights in the project's organization), in the environment of `pulumi up`"
    )


def base_url_from(configured: str, env: Mapping[str, str]) -> str:
    """The Paragon API base URL: ``PARAGON_BASE_URL`` if set, else ``paragon.base_url`` from config.

    ``PARAGON_BASE_URL`` is trimmed; empty after trimming counts as unset.

    Raises:
        ConfigError: The chosen URL is not https (loopback http is allowed for tests), or httpx could not send
            to it (bad port, character or host name). The value is shown unless it holds user info (user:pass@).
        InvalidEnvironmentValue: ``PARAGON_BASE_URL`` holds a control character after trimming.
    """
    override = clean_value(ENV_BASE_URL, env.get(ENV_BASE_URL))
    value = override or configured
    try:
        return check_base_url(value, ENV_BASE_URL if override else "paragon.base_url").rstrip("/")
    except ValueError as err:
        text, _, fix = str(err).partition(". Fix: ")
        shown = "(value not shown: it holds user info)" if "@" in value else value
        raise ConfigError(
            [Problem("", None, ENV_BASE_URL if override else "paragon.base_url", f"{text}, got {shown}", fix)]
        ) from None
