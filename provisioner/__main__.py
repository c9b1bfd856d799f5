"""``python -m provisioner``: the command line (`provisioner.cli.app`; errors handled in `provisioner.cli.entry`)."""

import gc

from provisioner.cli.entry import main

try:
    code = main()
finally:
    # The process ends here. Frozen objects are left out of the interpreter's final collection, which
    # would otherwise free the whole heap (Pulumi, pulumi_azuread, pydantic) object by object before the
    # OS reclaims it anyway: that was a quarter of `plan`'s wall time (docs/performance.md).
    gc.freeze()
raise SystemExit(code)
