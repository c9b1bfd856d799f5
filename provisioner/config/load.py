"""Reading one stack config file into the validated model, with its warnings.

``defaults.yaml`` beside the file is merged under it (`provisioner.config.defaults`); problems come from
`provisioner.config.problems`. Nothing here declares a resource: bad input stops before Pulumi runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from provisioner.catalog import CATALOG
from provisioner.config.adoption import client_id_problems
from provisioner.config.advice import anchor_warnings
from provisioner.config.defaults import apply_defaults
from provisioner.config.model import APP_LEVEL_KEYS, ProvisionerConfig
from provisioner.config.problems import (
    ALL_KEYS,
    catalog_problems,
    integration_keys_that_are_settings,
    model_problems,
)
from provisioner.config.registration_problems import (
    owner_problems,
    redirect_problems,
    scheduled_deployer_warnings,
    verification_problems,
)
from provisioner.config.safe_io import unreadable
from provisioner.config.yaml_source import YamlDocument, read_yaml
from provisioner.errors import ConfigError, Problem


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config and the warnings found while loading it.

    Attributes:
        config: The validated config.
        warnings: `Problem` records with severity ``warning``, in line order; print them as
            ``file:line: key: warning: ...`` (``str`` of each).
    """

    config: ProvisionerConfig
    warnings: list[Problem] = field(default_factory=list)


def read_document(path: Path) -> YamlDocument:
    """Read one config file (a stack file or ``defaults.yaml``) with the config model's key names known.

    Raises:
        ConfigError: The file is missing, not UTF-8, nested too deeply or unreadable (one line naming it).
            YAML syntax and value problems are collected on the document, not raised.
    """
    problem = ""
    fix = ""
    try:
        return read_yaml(path, known_keys=ALL_KEYS)
    except RecursionError:
        problem, fix = "nested too deeply", "flatten the file"
    except (OSError, UnicodeDecodeError) as err:
        missing = "create it, or name another with --config (README, Configuration)"
        reason, fix = unreadable(path, err, missing)
        if isinstance(err, UnicodeDecodeError):
            problem = reason
        else:
            problem = "file not found" if reason == "no such file" else f"cannot read the file ({reason})"
    raise ConfigError([Problem(str(path), None, "", problem, fix)]) from None


def load_config_report(path: Path, *, as_of: date | None = None, as_of_flag: str | None = None) -> LoadedConfig:
    """Load and fully validate one stack config file, returning warnings alongside the config.

    Args:
        path: A ``config/<stack>.yaml`` file.
        as_of: The day the config is judged at (today, or a command's ``--at``): a rotation ``anchor`` after
            it is a warning (`anchor_warnings`). None skips that check (the file alone has no "today").
        as_of_flag: The flag ``as_of`` came from (``--at``), named in the warning; None for today.

    Returns:
        The validated config (GUIDs lower-case) and any warnings.

    Raises:
        ConfigError: The file is missing, not YAML, has duplicate keys, holds a secret, breaks the model, or
            names unknown integrations or scopes. Each problem is a `Problem` record (``err.records``) and
            one line (``err.problems``) naming the file, line, key path and fix, sorted by line.
    """
    doc = apply_defaults(
        read_document(path), read_document, frozenset(APP_LEVEL_KEYS)
    )  # defaults.yaml beside the file, merged under it
    problems = list(doc.problems)
    if doc.fatal:
        raise ConfigError(problems)
    if doc.data is None and not problems:
        raise ConfigError([Problem(str(path), None, "", "the file is empty", "start from config/dev.yaml")])
    if not isinstance(doc.data, dict):
        if not problems:
            problems.append(
                Problem(
                    str(path),
                    None,
                    "",
                    "the top level must be a mapping with `paragon:` and `integrations:`",
                    "start from config/dev.yaml",
                )
            )
        raise ConfigError(problems)
    problems += integration_keys_that_are_settings(doc)
    try:
        config = ProvisionerConfig.model_validate(doc.data, context={"config_dir": path.parent})
    except ValidationError as err:
        raise ConfigError(problems + model_problems(doc, err)) from None
    found = problems + catalog_problems(doc, config) + owner_problems(doc, config) + redirect_problems(doc, config)
    if as_of is not None:
        found += anchor_warnings(doc, config, as_of, as_of_flag)
    found += verification_problems(doc, config)
    found += client_id_problems(doc, config)
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise ConfigError(found)
    found += scheduled_deployer_warnings(doc, config)  # advice for a config that is otherwise valid
    return LoadedConfig(config, sorted(found, key=lambda p: p.sort_key))


def load_config(path: Path) -> ProvisionerConfig:
    """Load and fully validate one stack config file (warnings dropped; see `load_config_report`).

    Args:
        path: A stack's YAML file; a ``defaults.yaml`` beside it is merged under it first
            (`provisioner.config.defaults`).

    Returns:
        The validated config.

    Raises:
        ConfigError: As `load_config_report`.
    """
    return load_config_report(path).config


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `ProvisionerConfig`, as published in ``config/provisioner.schema.json``."""
    schema = ProvisionerConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Paragon provisioner stack config (config/<stack>.yaml)"
    schema["properties"]["integrations"]["propertyNames"] = {"enum": sorted(CATALOG)}
    return schema
