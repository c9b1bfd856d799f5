"""The policy pack's policies: `paragon_policies` checks wired into CrossGuard ``ResourceValidationPolicy``.

Each policy has a config schema with defaults (the same defaults the checks apply when the engine passes
no config), so limits can be changed per stack with ``pulumi preview --policy-pack policy
--policy-pack-config FILE`` or in Pulumi Cloud. The clock is injectable; the pack uses the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import paragon_policies as checks
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

PACK_NAME: Final = "paragon-entra-guardrails"

Check = Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]


def _validator(
    resource_type: str | tuple[str, ...], check: Check
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    types = (resource_type,) if isinstance(resource_type, str) else resource_type

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        for problem in check(args.props, args.get_config()):
            report_violation(problem, None)

    return validate


def build_policies(clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Policy]:
    """The pack's policies, all mandatory.

    Args:
        clock: Returns the current time (timezone-aware); read once per validated password.
    """

    def end_date(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
        return checks.check_secret_end_date(props, config, clock())

    def strings(default: tuple[str, ...], what: str) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string"}, "default": list(default), "description": what}

    return [
        ResourceValidationPolicy(
            name="secret-end-date-within-max",
            description="Client secrets (ApplicationPassword) end within maxDays days from now.",
            validate=_validator(checks.PASSWORD, end_date),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "maxDays": {
                        "type": "integer",
                        "minimum": 1,
                        "default": checks.DEFAULT_MAX_SECRET_DAYS,
                        "description": "Longest allowed secret lifetime in days, e.g. the tenant's policy maximum.",
                    }
                }
            ),
        ),
        ResourceValidationPolicy(
            name="redirect-uris-https-no-wildcards",
            description="Web and SPA redirect URIs use https (http only on loopback) and contain no wildcard.",
            validate=_validator(checks.APPLICATION, checks.check_redirect_uris),
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name="sign-in-audience-allowed",
            description="The app registration's sign-in audience is in the allowed list.",
            validate=_validator(checks.APPLICATION, checks.check_sign_in_audience),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "allowedAudiences": strings(checks.DEFAULT_SIGN_IN_AUDIENCES, "Allowed signInAudience values.")
                }
            ),
        ),
        ResourceValidationPolicy(
            name="no-application-permissions",
            description="No application permissions (app roles) requested or defined unless allowed by ID.",
            validate=_validator(checks.APPLICATION, checks.check_application_permissions),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={"allowedAppRoleIds": strings((), "App role IDs (GUIDs) that may be used anyway.")}
            ),
        ),
        ResourceValidationPolicy(
            name="paragon-redirect-uri-present",
            description="Paragon's OAuth redirect URI is registered on the app's Web platform.",
            validate=_validator(checks.APPLICATION, checks.check_paragon_redirect_uri),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "paragonRedirectUris": strings(
                        checks.DEFAULT_PARAGON_REDIRECT_URIS, "Accepted Paragon redirect URIs (any one present)."
                    )
                }
            ),
        ),
        ResourceValidationPolicy(
            name="owners-kept",
            description="App registrations and their service principals list owners, including every required one.",
            validate=_validator((checks.APPLICATION, checks.SERVICE_PRINCIPAL), checks.check_owners),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "requiredOwners": strings(
                        (), "Object IDs that must stay owners, e.g. the identity that runs the scheduled pulumi up."
                    )
                }
            ),
        ),
    ]
