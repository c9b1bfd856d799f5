"""``status`` alerts: post the report to a Microsoft Teams, Slack or generic JSON webhook.

The webhook URL is a secret (whoever has it can post to the channel): it comes only from the environment
variable `WEBHOOK_ENV` (in CI, a repository or environment secret), never from YAML or a flag, and is never
printed. What is posted: the stack, each integration's state, days left, what to do, and a link to the CI
run when there is one; never a secret.

* **Teams**: a Workflows webhook ("Send webhook alerts to a channel"): a ``message`` with one Adaptive Card
  attachment (``application/vnd.microsoft.card.adaptive``, card version 1.4).
* **Slack**: an incoming webhook: ``text`` (the fallback) and Block Kit ``blocks``.
* **JSON**: the summary as one JSON object (`summary_json`), for anything else.

Severity: ``info`` (all healthy), ``warning`` (overdue, expiring, or a check that could not be made),
``critical`` (expired, or Entra refuses the secret Paragon holds). Only a report at or above the chosen
severity is posted. Every wait is bounded (`POST_DEADLINE_SECONDS`, one retry on a connection error, 429 or
5xx), and a failed post is a warning: it never changes the exit code.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from pydantic import SecretStr

from provisioner.transport.env_secrets import WEBHOOK_ENV as WEBHOOK_ENV  # one home: the secrets list

if TYPE_CHECKING:
    import httpx

    from provisioner.cli.status import SecretReport
    from provisioner.cli.verify import HeldSecretCheck

POST_DEADLINE_SECONDS: Final = 15.0
"""Longest a post may take, both attempts and the wait between them included."""
_TEAMS_HOSTS: Final = ("logic.azure.com", "powerautomate.com", "powerplatform.com", "flow.microsoft.com")


class AlertFormat(StrEnum):
    """Webhook payload shapes; ``auto`` picks by the URL's host (Slack and Teams Workflows hosts, else JSON)."""

    AUTO = "auto"
    TEAMS = "teams"
    SLACK = "slack"
    JSON = "json"


class Severity(IntEnum):
    """How bad a report is; alerts are posted at or above a chosen one."""

    INFO = 0
    WARNING = 1
    CRITICAL = 2


STATE_SEVERITY: Final = {
    "healthy": Severity.INFO,
    "accepted": Severity.INFO,
    "skipped": Severity.INFO,
    "overdue": Severity.WARNING,
    "expiring": Severity.WARNING,
    "unverified": Severity.WARNING,
    "expired": Severity.CRITICAL,
    "refused": Severity.CRITICAL,
    "missing": Severity.CRITICAL,
}
ACTION: Final = {
    "healthy": "nothing to do",
    "overdue": "run the scheduled pulumi up (or the workflow) and read why the last one failed",
    "expiring": "rotation has been failing for long: fix the scheduled pulumi up now",
    "expired": "users are failing now: run pulumi up immediately",
    "refused": "users are failing now: run pulumi up --refresh to push a working secret",
    "missing": "users are failing now: run pulumi up --refresh to push the credential",
    "unverified": "the check could not be made: see the run's log",
}


@dataclass(frozen=True)
class AlertItem:
    """One integration in an alert.

    Attributes:
        integration: Paragon integration key.
        state: ``healthy``, ``overdue``, ``expiring``, ``expired`` (expiry report), or with ``--verify``
            ``refused``, ``missing``, ``unverified`` when that is worse.
        days_left: Whole days the secret Paragon holds has left (None when not deployed).
        end_date: Its UTC RFC 3339 end date.
        reason: One sentence (never a secret).
    """

    integration: str
    state: str
    days_left: int | None
    end_date: str | None
    reason: str

    @property
    def action(self) -> str:
        """What to do about it."""
        return ACTION.get(self.state, "see the run's log")


@dataclass(frozen=True)
class AlertSummary:
    """What an alert says: the stack, when, the exit code, each integration, and a link to the run."""

    stack: str
    at: str
    exit_code: int
    items: Sequence[AlertItem]
    run_url: str | None = None

    @property
    def severity(self) -> Severity:
        """The worst item's severity (a non-zero exit code is at least a warning)."""
        worst = max((STATE_SEVERITY.get(i.state, Severity.WARNING) for i in self.items), default=Severity.INFO)
        return max(worst, Severity.WARNING) if self.exit_code and worst is Severity.INFO else worst

    @property
    def title(self) -> str:
        """One line: ``Paragon client secrets, stack prod: CRITICAL (exit 5)``."""
        return f"Paragon client secrets, stack {self.stack}: {self.severity.name} (exit {self.exit_code})"


def run_url(env: Mapping[str, str]) -> str | None:
    """A link to the CI run: GitHub Actions, GitLab CI or Azure Pipelines variables; None outside CI."""
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    if env.get("CI_JOB_URL"):
        return env["CI_JOB_URL"]
    if env.get("SYSTEM_COLLECTIONURI") and env.get("SYSTEM_TEAMPROJECT") and env.get("BUILD_BUILDID"):
        return f"{env['SYSTEM_COLLECTIONURI']}{env['SYSTEM_TEAMPROJECT']}/_build/results?buildId={env['BUILD_BUILDID']}"
    return None


def webhook_from(env: Mapping[str, str]) -> SecretStr | None:
    """The webhook URL from `WEBHOOK_ENV` (trimmed), or None when unset or empty.

    Raises:
        ValueError: A control character inside it (a tab, line break, escape or NUL pasted with it), not an
            https URL (plain http only for loopback), or a URL httpx cannot send to (a bad port or host name);
            one line that never shows the URL.
    """
    raw = (env.get(WEBHOOK_ENV) or "").strip()
    if not raw:
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in raw):
        raise ValueError(
            f"{WEBHOOK_ENV} contains a control character (a tab, line break or similar; the value is not shown). "
            "Fix: set it again to the webhook URL alone (e.g. `printf %s`)"
        )
    not_https = f"{WEBHOOK_ENV} is not an https URL (the value is not shown). Fix: paste the webhook URL"
    try:
        parts = urlsplit(raw)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise ValueError(not_https) from None
    loopback = hostname in ("127.0.0.1", "localhost", "::1")
    if not hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise ValueError(not_https)
    import httpx

    try:
        httpx.URL(raw)
    except (httpx.InvalidURL, ValueError):  # a bad port, a host name IDNA refuses, a character httpx refuses
        raise ValueError(
            f"{WEBHOOK_ENV} is not a URL that can be posted to (a bad port, host name or character; the value is "
            "not shown). Fix: paste the webhook URL exactly as the service shows it"
        ) from None
    return SecretStr(raw)


def guess_format(url: SecretStr) -> AlertFormat:
    """Slack for ``hooks.slack.com``, Teams for Power Automate / Logic Apps hosts, else generic JSON."""
    host = (urlsplit(url.get_secret_value()).hostname or "").lower()
    if host == "hooks.slack.com":
        return AlertFormat.SLACK
    if any(host == h or host.endswith("." + h) for h in _TEAMS_HOSTS):
        return AlertFormat.TEAMS
    return AlertFormat.JSON


def summary_json(summary: AlertSummary) -> dict[str, Any]:
    """The generic JSON payload."""
    return {
        "source": "paragon-entra-provisioner",
        "title": summary.title,
        "stack": summary.stack,
        "at": summary.at,
        "severity": summary.severity.name.lower(),
        "exit_code": summary.exit_code,
        "run_url": summary.run_url,
        "integrations": [
            {
                "integration": i.integration,
                "state": i.state,
                "days_left": i.days_left,
                "end_date": i.end_date,
                "reason": i.reason,
                "action": i.action,
            }
            for i in summary.items
        ],
    }


def _line(item: AlertItem) -> str:
    left = f", {item.days_left} day(s) left" if item.days_left is not None else ""
    return f"{item.integration}: {item.state.upper()}{left}. {item.reason}. To do: {item.action}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(summary: AlertSummary) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` plus header, one section per integration, the run link."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": summary.title[:150]}}]
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(_line(i))[:3000]}} for i in summary.items
    ]
    context = f"as of {summary.at}" + (f" · <{summary.run_url}|the run>" if summary.run_url else "")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": summary.title, "blocks": blocks[:50]}


def teams_payload(summary: AlertSummary) -> dict[str, Any]:
    """A Teams Workflows webhook message holding one Adaptive Card (version 1.4)."""
    color = {Severity.INFO: "Good", Severity.WARNING: "Warning", Severity.CRITICAL: "Attention"}[summary.severity]
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": summary.title,
            "weight": "Bolder",
            "size": "Medium",
            "color": color,
            "wrap": True,
        },
        {"type": "TextBlock", "text": f"as of {summary.at}", "isSubtle": True, "spacing": "None", "wrap": True},
        {"type": "FactSet", "facts": [{"title": i.integration, "value": _line(i)} for i in summary.items]},
    ]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if summary.run_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the run", "url": summary.run_url}]
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
    return {"type": "message", "attachments": [attachment]}


def payload_for(fmt: AlertFormat, summary: AlertSummary) -> dict[str, Any]:
    """The body for ``fmt`` (not `AlertFormat.AUTO`: resolve it with `guess_format` first)."""
    if fmt is AlertFormat.TEAMS:
        return teams_payload(summary)
    if fmt is AlertFormat.SLACK:
        return slack_payload(summary)
    return summary_json(summary)


def post_alert(
    url: SecretStr, payload: Mapping[str, Any], *, transport: httpx.BaseTransport | None = None
) -> str | None:
    """POST ``payload`` as JSON; None when the webhook took it (2xx), else a one-line warning (URL not shown).

    One retry, after a second, on a connection error, 429 or 5xx; the whole post ends within
    `POST_DEADLINE_SECONDS`. Redirects are not followed (a webhook answers directly).
    """
    import httpx

    deadline = time.monotonic() + POST_DEADLINE_SECONDS
    body = json.dumps(payload).encode()
    problem = ""
    for attempt in (1, 2):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with httpx.Client(
                transport=transport, timeout=httpx.Timeout(min(10.0, left), connect=min(5.0, left))
            ) as http:
                response = http.post(url.get_secret_value(), content=body, headers={"Content-Type": "application/json"})
        except (httpx.HTTPError, httpx.InvalidURL) as err:
            problem = f"no answer ({type(err).__name__})"
        else:
            if 200 <= response.status_code < 300:
                return None
            problem = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                break
        if attempt == 1 and deadline - time.monotonic() > 1.0:
            time.sleep(1.0)
    return f"warning: the status alert was not delivered ({problem}; webhook from {WEBHOOK_ENV}, URL not shown)"


def alert_items(reports: Sequence[SecretReport], checks: Sequence[HeldSecretCheck] | None) -> list[AlertItem]:
    """One item per integration: the expiry verdict, or the ``--verify`` verdict when that is worse."""
    found = {c.integration: c for c in checks or ()}
    items = []
    for report in reports:
        state, reason = report.health.name.lower(), report.reason
        check = found.get(report.integration)
        if check is not None and STATE_SEVERITY[check.verdict] > STATE_SEVERITY[state]:
            state, reason = check.verdict, check.detail
        items.append(AlertItem(report.integration, state, report.days_left, report.end_date, reason))
    return items


def send_status_alert(summary: AlertSummary, env: Mapping[str, str], fmt: AlertFormat, minimum: Severity) -> str | None:
    """Post ``summary`` when `WEBHOOK_ENV` is set and its severity is at least ``minimum``.

    Returns:
        A line for stderr (what was posted, or a warning), or None when nothing was to be posted.
    """
    try:
        url = webhook_from(env)
    except ValueError as err:
        return f"warning: the status alert was not posted: {err}"
    if url is None or summary.severity < minimum:
        return None
    chosen = guess_format(url) if fmt is AlertFormat.AUTO else fmt
    warning = post_alert(url, payload_for(chosen, summary))
    return warning or f"status alert posted ({chosen.value}, {summary.severity.name.lower()})"


def status_alert(
    stack: str,
    at: str,
    exit_code: int,
    reports: Sequence[SecretReport],
    checks: Sequence[HeldSecretCheck] | None,
    env: Mapping[str, str],
    minimum: str = "warning",
    fmt: str = "auto",
) -> str | None:
    """`send_status_alert` for one ``status`` run: ``minimum`` is ``info``/``warning``/``critical``, ``fmt``
    an `AlertFormat` value; returns the line for stderr, or None."""
    summary = AlertSummary(stack, at, exit_code, alert_items(reports, checks), run_url(env))
    return send_status_alert(summary, env, AlertFormat(fmt), Severity[minimum.upper()])
