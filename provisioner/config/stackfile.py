"""Which YAML file configures a stack, and which stack a YAML file configures.

The stack's YAML can live anywhere (a config repository, a pull request's checkout). One rule, used by the
program and by the ``plan``, ``validate`` and ``status`` commands alike; the first that gives a path wins:

1. ``--config FILE`` on the command line (commands only);
2. the stack setting ``configFile`` (``pulumi config set configFile prod.yaml``, kept in
   ``Pulumi.<stack>.yaml``), relative to the project folder (the one holding ``Pulumi.yaml``);
3. the environment variable ``PROVISIONER_CONFIG`` (for CI jobs);
4. ``config/<stack>.yaml`` in the project folder.

Where no stack is named, the stack is the file's name without ``.yaml`` (``prod.yaml`` → ``prod``), else
``dev``. A named stack that disagrees with the file's name (from ``--config`` or ``PROVISIONER_CONFIG``) is
refused unless forced: planning ``staging.yaml`` as stack ``prod`` is almost always a mistake. The stack
setting is per stack by construction, so it is never checked against the stack name.

Pure file reading: no Pulumi, no network. Pulumi's stack file format: "Project and stack settings"
(Pulumi docs, ``Pulumi.<stack>.yaml``: ``config:`` with keys ``<project>:<key>``; ``stackConfigDir`` in
``Pulumi.yaml`` moves those files).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import yaml

from provisioner.config.defaults import DEFAULTS_FILE
from provisioner.config.safe_io import read_text_capped, unreadable
from provisioner.errors import ProvisionerError, control_characters

ENV_CONFIG: Final = "PROVISIONER_CONFIG"
"""Environment variable: path of the stack's YAML when neither ``--config`` nor the stack setting gives one."""
STACK_SETTING: Final = "configFile"
"""Stack setting (project namespace) naming the stack's YAML, relative to the project folder."""
DEFAULT_STACK: Final = "dev"

_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class StackFileError(ProvisionerError):
    """The stack or its config file cannot be determined. ``usage`` marks a command-line mistake (exit 2).

    Attributes:
        usage: True when the fix is a different command line (exit code 2), False for a bad file (1).
    """

    def __init__(self, message: str, *, usage: bool) -> None:
        self.usage = usage
        super().__init__(message)


def env_config(env: Mapping[str, str]) -> str | None:
    """``PROVISIONER_CONFIG`` trimmed of surrounding whitespace (like the ``PARAGON_*`` variables); None when
    unset or blank.

    Raises:
        StackFileError: The value still holds a control or invisible character (a newline or ESC pasted
            into a CI variable); the message names the variable, never its value (usage: exit 2).
    """
    value = (env.get(ENV_CONFIG) or "").strip()
    if control_characters(value):
        raise StackFileError(
            f"{ENV_CONFIG} contains control or invisible characters (value not shown). Fix: set it to the plain "
            "path of the stack's YAML, e.g. config/prod.yaml",
            usage=True,
        )
    return value or None


class Source(StrEnum):
    """Where the config file's path came from (shown in the plan header)."""

    FLAG = "--config"
    STACK_SETTING = "stack setting configFile"
    ENV = ENV_CONFIG
    DEFAULT = "default config/<stack>.yaml"


@dataclass(frozen=True)
class StackConfig:
    """The stack and its YAML file.

    Attributes:
        stack: Pulumi stack name.
        path: The stack's YAML file (may not exist; loading it says so).
        source: Where ``path`` came from.
    """

    stack: str
    path: Path
    source: Source


def is_stack_name(name: str) -> bool:
    """Letters, digits, ``_``, ``.`` and ``-``, not starting with a dot."""
    return bool(_STACK_NAME.fullmatch(name)) and not name.startswith(".")


def stack_from_file(path: Path) -> str:
    """The stack a YAML file configures: its name without the ``.yaml``/``.yml`` suffix."""
    return path.name.removesuffix(".yaml").removesuffix(".yml")


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(read_text_capped(path))
    except OSError as err:
        reason, fix = unreadable(path, err, "create it, or check the stack name")
        raise StackFileError(f"{path}: cannot read it ({reason}). Fix: {fix}", usage=False) from None
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise StackFileError(f"{path}{line}: cannot read it as YAML. Fix: repair the file", usage=False) from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a YAML mapping. Fix: repair the file", usage=False)
    return data


def project_settings(project_dir: Path) -> tuple[str, Path] | None:
    """The project name and the folder of its ``Pulumi.<stack>.yaml`` files, or None without ``Pulumi.yaml``.

    Raises:
        StackFileError: ``Pulumi.yaml`` is not a YAML mapping with a ``name``.
    """
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        return None
    data = _read_mapping(project_file)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise StackFileError(f"{project_file}: no project `name:`. Fix: add one", usage=False)
    config_dir = data.get("stackConfigDir")
    return name, project_dir / config_dir if isinstance(config_dir, str) else project_dir


def stack_setting(project_dir: Path, stack: str) -> Path | None:
    """The ``configFile`` stack setting of ``stack``, resolved against ``project_dir``; None when unset.

    Reads ``Pulumi.<stack>.yaml`` (in ``stackConfigDir`` when ``Pulumi.yaml`` sets one) and accepts the key
    as ``<project>:configFile`` (how ``pulumi config set`` writes it) or plain ``configFile``.

    Raises:
        StackFileError: ``Pulumi.yaml`` or the stack file is not valid YAML, or the setting is not text.
    """
    settings = project_settings(project_dir)
    if settings is None:
        return None
    project, stack_dir = settings
    stack_file = stack_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        return None
    config = _read_mapping(stack_file).get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{stack_file}: `config:` must be a mapping. Fix: repair the file", usage=False)
    value = config.get(f"{project}:{STACK_SETTING}", config.get(STACK_SETTING))
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise StackFileError(
            f"{stack_file}: {project}:{STACK_SETTING} must be a file path. Fix: pulumi config set {STACK_SETTING} "
            "FILE (not --secret)",
            usage=False,
        )
    return project_dir / value


def stack_settings(project_dir: Path) -> dict[str, Path]:
    """Every stack with a ``configFile`` setting in the project: stack name → its YAML file."""
    settings = project_settings(project_dir)
    if settings is None:
        return {}
    found: dict[str, Path] = {}
    for stack_file in sorted(settings[1].glob("Pulumi.*.yaml")):
        stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
        path = stack_setting(project_dir, stack) if is_stack_name(stack) else None
        if path is not None:
            found[stack] = path
    return found


def resolve(
    project_dir: Path,
    *,
    stack: str | None,
    config: Path | None,
    env: Mapping[str, str],
    force_stack: bool = False,
) -> StackConfig:
    """Decide the stack and its YAML file by the rule in the module docstring.

    Args:
        project_dir: Folder holding ``Pulumi.yaml`` (``config/<stack>.yaml`` is looked up there too).
        stack: ``--stack``, or None when not given.
        config: ``--config``, or None when not given.
        env: The environment (``PROVISIONER_CONFIG``).
        force_stack: Accept a ``stack`` that disagrees with the file's name.

    Raises:
        StackFileError: A bad stack name, the shared ``defaults.yaml`` given as a stack's file, a stack that
            disagrees with the file's name (``usage``), or an unreadable Pulumi project or stack file.
    """
    if stack is not None and not is_stack_name(stack):
        raise StackFileError(f"--stack: {stack!r} is not a stack name (letters, digits, _ . -)", usage=True)
    env_value = env_config(env)
    named: tuple[Path, Source] | None = None
    if config is not None:
        named = (config, Source.FLAG)
    elif env_value is not None:
        named = (Path(env_value), Source.ENV)
    for candidate in (config, Path(env_value) if env_value else None):
        if candidate is not None and candidate.name == DEFAULTS_FILE:
            raise StackFileError(
                f"{candidate}: holds defaults shared by the stack files beside it, not a stack. Fix: name a stack's "
                "file (e.g. prod.yaml)",
                usage=True,
            )
    explicit = stack is not None
    if stack is None:
        if named is None:
            stack = DEFAULT_STACK
        else:
            stack = stack_from_file(named[0])
            if not is_stack_name(stack):
                raise StackFileError(
                    f"{named[1]}: cannot name a stack after {named[0].name!r}. Fix: rename the file, or pass "
                    "--stack NAME --force-stack",
                    usage=True,
                )
    setting = stack_setting(project_dir, stack) if config is None else None
    if config is not None:
        chosen = StackConfig(stack, config, Source.FLAG)
    elif setting is not None:
        return StackConfig(stack, setting, Source.STACK_SETTING)
    elif env_value is not None:
        chosen = StackConfig(stack, Path(env_value), Source.ENV)
    else:
        return StackConfig(stack, project_dir / "config" / f"{stack}.yaml", Source.DEFAULT)
    if explicit and stack_from_file(chosen.path) != stack and not force_stack:
        raise StackFileError(
            f"--stack {stack} disagrees with {chosen.source} {chosen.path} (stack {stack_from_file(chosen.path)}). "
            f"Fix: drop --stack, or add --force-stack to use this file for stack {stack}",
            usage=True,
        )
    return chosen


def is_pulumi_file(path: Path) -> bool:
    """True for Pulumi's own files: the project file ``Pulumi.yaml`` and stack files ``Pulumi.<stack>.yaml``."""
    return path.name in ("Pulumi.yaml", "Pulumi.yml") or path.name.startswith("Pulumi.")


def is_stack_file(path: Path) -> bool:
    """True when ``path``'s name is a stack file's, by the rule the workflows use to list stacks: any
    ``*.yaml`` except Pulumi's own files, ``defaults.yaml``, schemas (``*.schema.yaml``) and hidden files."""
    name = path.name
    return (
        name.endswith(".yaml")
        and not is_pulumi_file(path)
        and name != DEFAULTS_FILE
        and not name.endswith(".schema.yaml")
        and not name.startswith(".")
    )


def stack_files(folder: Path) -> list[Path]:
    """The stack files in ``folder`` (`is_stack_file`), sorted by name."""
    return sorted(p for p in folder.glob("*.yaml") if p.is_file() and is_stack_file(p))


def files_to_validate(files: list[Path], project_dir: Path, env: Mapping[str, str]) -> list[Path]:
    """The stack files ``validate`` checks, each once, in order.

    Named files are checked as given, with three exceptions: a folder stands for its stack files
    (`stack_files`); a shared ``defaults.yaml`` stands for every stack file beside it (a change to the defaults
    can break any of them); Pulumi's own files (``Pulumi.yaml``, ``Pulumi.<stack>.yaml``, as a shell glob
    ``*.yaml`` names them) are skipped. With no files: ``PROVISIONER_CONFIG`` when set; else the stack files in
    ``<project_dir>/config/``; else every stack file the workflows would deploy from the project folder
    (a config repository), together with the file of every stack's ``configFile`` setting.
    """
    if not files:
        env_value = env_config(env)
        if env_value:
            return [Path(env_value)]
        found = stack_files(project_dir / "config")
        if found:
            return found
        root = stack_files(project_dir) if project_settings(project_dir) is not None else []
        return _unique([*root, *stack_settings(project_dir).values()])
    expanded: list[Path] = []
    for path in files:
        if _is_dir(path):
            expanded += stack_files(path)
        elif path.name == DEFAULTS_FILE:
            expanded += stack_files(path.parent)
        elif not is_pulumi_file(path):
            expanded.append(path)
    return _unique(expanded)


def _unique(paths: list[Path]) -> list[Path]:
    """``paths`` without repeats (``prod.yaml`` and ``./prod.yaml`` are one file), first one kept."""
    seen: set[Path] = set()
    kept: list[Path] = []
    for path in paths:
        key = Path(os.path.normpath(path))
        if key not in seen:
            seen.add(key)
            kept.append(path)
    return kept


def unselected_stack_files(paths: list[Path], project_dir: Path) -> list[tuple[Path, str]]:
    """Of ``paths`` in the project's own folders (the project folder, ``config/``, ``stackConfigDir``), the
    stack files no stack would read: no ``Pulumi.<stack>.yaml`` names them in its ``configFile`` setting, and
    they are not the default ``config/<stack>.yaml``. Each with its stack name.

    CI selects stacks and never creates them, so such a file is not deployed (docs/gitops.md). Empty when
    ``project_dir`` holds no ``Pulumi.yaml`` (no project to check against).
    """
    settings = project_settings(project_dir)
    if settings is None:
        return []
    selected = {_real(p) for p in stack_settings(project_dir).values()}
    homes = {_real(project_dir), _real(project_dir / "config"), _real(settings[1])}
    found: list[tuple[Path, str]] = []
    for path in paths:
        if _real(path).parent not in homes:
            continue  # a file elsewhere (a review copy, a test fixture) is not one the workflows deploy
        stack = stack_from_file(path)
        default = _real(project_dir / "config" / f"{stack}.yaml")
        if _real(path) not in selected and _real(path) != default:
            found.append((path, stack))
    return found


def _is_dir(path: Path) -> bool:
    """``Path.is_dir``, false too when the path cannot even be looked at (too long, no permission): it is then
    kept as a file, and reading it reports why in one line."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _real(path: Path) -> Path:
    """``path`` with symbolic links followed as far as they go: unlike ``Path.resolve``, never raises for a
    link loop (``RuntimeError``) or a path too long; the unreadable file is reported where it is read."""
    return Path(os.path.realpath(path))


def program_config_path(stack: str, setting: str | None, env: Mapping[str, str]) -> Path:
    """The YAML the Pulumi program reads for ``stack``: the ``configFile`` setting, else
    ``PROVISIONER_CONFIG``, else ``config/<stack>.yaml`` (paths relative to the project folder).

    Raises:
        StackFileError: ``PROVISIONER_CONFIG`` names a file for another stack (``staging.yaml`` while
            deploying ``prod``), or the shared ``defaults.yaml``; a CI variable left over from another
            job must not deploy one stack's config to another. The stack setting is never second-guessed.
    """
    if setting:
        return Path(setting)
    env_value = env_config(env)
    if not env_value:
        return Path("config") / f"{stack}.yaml"
    path = Path(env_value)
    if path.name == DEFAULTS_FILE or stack_from_file(path) != stack:
        raise StackFileError(
            f"{ENV_CONFIG}={env_value} is not the file of stack {stack} (expected {stack}.yaml). Fix: point "
            f"{ENV_CONFIG} at {stack}.yaml, or set the stack setting: pulumi config set {STACK_SETTING} {env_value}",
            usage=False,
        )
    return path
