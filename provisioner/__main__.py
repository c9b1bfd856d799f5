"""``python -m provisioner``: the command line (see `provisioner.cli`)."""

import gc

from provisioner.cli import app

try:
    app(prog_name="python -m provisioner")
finally:
    # The process ends here. Frozen objects are left out of the interpreter's final collection, which
    # would otherwise free the whole heap (Pulumi, pulumi_azuread, pydantic) object by object before the
    # OS reclaims it anyway: that was a quarter of `plan`'s wall time (docs/performance.md).
    gc.freeze()
