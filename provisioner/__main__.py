"""``python -m provisioner``: the command line (`provisioner.cli.app`; errors handled in `provisioner.cli.entry`)."""

import gc
import os

# No pydantic plugins are used here, and looking for them scans the entry points of every installed
# distribution the first time a model is built: about 40 ms of every command (docs/performance.md). pydantic
# skips the scan when PYDANTIC_DISABLE_PLUGINS is set; a value the user set is kept.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from provisioner.cli.entry import main  # noqa: E402 (after the setting above, before pydantic is imported)

try:
    code = main()
finally:
    # The process ends here. Frozen objects are left out of the interpreter's final collection, which
    # would otherwise free the whole heap (Pulumi, pulumi_azuread, pydantic) object by object before the
    # OS reclaims it anyway: that was a quarter of `plan`'s wall time (docs/performance.md).
    gc.freeze()
raise SystemExit(code)
