"""Paragon Entra provisioner: Entra ID app registrations, rotating client secrets, Paragon credentials.

Data flows one way::

    config/<stack>.yaml -> config (validated model; reads catalog, the integration facts)
        -> program (rotation schedule -> app_registration component -> paragon.resource dynamic provider)
        -> paragon.client -> transport (HTTP: TLS, deadline, retries)

Subpackages by layer: `catalog` (facts as data), `config` (the input side), `program` (the Pulumi program),
`transport` and `paragon` (outside APIs), `cli` (operator commands; `cli.plan` runs the program offline under
Pulumi mocks). Nothing imports a layer above its own.
"""

__version__ = "0.1.0"
