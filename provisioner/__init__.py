"""Paragon Entra provisioner: Entra ID app registrations, rotating client secrets, Paragon credentials.

Data flows one way::

    config/<stack>.yaml -> config (validated model; reads catalog, the integration facts)
        -> program (rotation schedule -> app_registration component -> paragon.resource dynamic provider)
        -> paragon.client -> transport (HTTP: TLS, deadline, retries)

Subpackages by layer: `catalog` (facts as data), `config` (the input side), `program` (the Pulumi program),
`transport` and `paragon` (outside APIs), `cli` (operator commands; `cli.plan` runs the program offline under
Pulumi mocks). Nothing imports a layer above its own.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """``provisioner.__version__``: the installed version, read from the package metadata when first asked
    (one source, ``[project] version`` in pyproject.toml; importing the package stays free of it)."""
    if name == "__version__":
        from importlib.metadata import version

        return version("paragon-entra-provisioner")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
