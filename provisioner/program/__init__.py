"""The Pulumi program: config → app registration components → Paragon credentials → stack outputs.

Modules:

* `stack`: `main`, the one code path for ``pulumi up`` and the offline plan.
* `rotation`: the pure rotation schedule (slots, end dates, active slot); no Pulumi inside.
* `app_registration`: the ``AppRegistration`` component resource (Application, its ServicePrincipal, two
  ApplicationPassword slots).

CONTRACT: config repositories' ``__main__.py`` run ``from provisioner.program import main; main()``. This
package's import stays light (no Pulumi) so that `rotation` serves the commands that must not load Pulumi.
"""


def main() -> None:
    """Declare every resource of the current Pulumi stack from its YAML config (see `provisioner.program.stack`).

    Raises:
        pulumi.RunError: The stack's config is invalid (one line per problem), or a Pulumi call failed.
    """
    from provisioner.program.stack import main as declare

    declare()


__all__ = ["main"]
