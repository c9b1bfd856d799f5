"""Paragon Entra provisioner: Entra ID app registrations, rotating client secrets, Paragon credentials.

Data flows one way::

    config/<stack>.yaml -> config (validated model) -> rotation (pure schedule) + catalog (integration data)
        -> entra (app registration component) -> paragon.resource (dynamic provider) -> paragon.client (HTTP)

`program` wires these for `pulumi up`; `plan` runs the same program offline under Pulumi mocks.
"""

__version__ = "0.1.0"
