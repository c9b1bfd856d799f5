"""The input side: a stack's YAML read into the validated config model, before any resource exists.

Modules, in the order data passes through them:

* `safe_io`: bounded reads (size cap, regular files only, JSON depth).
* `yaml_source`: YAML → data with a line number per key; tags, aliases, tabs, duplicates refused.
* `secret_guard`: keys and values that look like secrets (refused, never shown).
* `defaults`: ``defaults.yaml`` merged under each stack file, lines kept per file.
* `values`: value rules (https URLs, Paragon's base URL, GUIDs, redirect URIs).
* `model`: the pydantic model (`ProvisionerConfig`).
* `problems`: a document and the model's verdict as one-line `provisioner.errors.Problem` records.
* `load`: one file → `LoadedConfig` (config and warnings) or `provisioner.errors.ConfigError`.
* `stackfile`: which YAML configures which stack (``--config``, ``configFile``, ``PROVISIONER_CONFIG``).

Import the public surface from here (``from provisioner.config import load_config``); nothing in this
package imports Pulumi, httpx or any layer above it.
"""

from provisioner.config.load import LoadedConfig, json_schema, load_config, load_config_report, read_document
from provisioner.config.model import (
    APP_LEVEL_KEYS,
    DEFAULT_BASE_URL,
    DEFAULT_REDIRECT_URI,
    DEFAULT_ROTATION_ANCHOR,
    MAX_GENERATION,
    PERSONAL_AUDIENCES,
    IntegrationConfig,
    ParagonConfig,
    ProvisionerConfig,
    SecretPolicy,
    SignInAudience,
)
from provisioner.config.problems import ALL_KEYS, FIELD_HOMES
from provisioner.config.values import (
    check_base_url,
    check_https_url,
    check_object_id,
    check_redirect_uri,
    check_uuid,
    is_loopback_host,
)

__all__ = [
    "ALL_KEYS",
    "APP_LEVEL_KEYS",
    "DEFAULT_BASE_URL",
    "DEFAULT_REDIRECT_URI",
    "DEFAULT_ROTATION_ANCHOR",
    "FIELD_HOMES",
    "MAX_GENERATION",
    "PERSONAL_AUDIENCES",
    "IntegrationConfig",
    "LoadedConfig",
    "ParagonConfig",
    "ProvisionerConfig",
    "SecretPolicy",
    "SignInAudience",
    "check_base_url",
    "check_https_url",
    "check_object_id",
    "check_redirect_uri",
    "check_uuid",
    "is_loopback_host",
    "json_schema",
    "load_config",
    "load_config_report",
    "read_document",
]
