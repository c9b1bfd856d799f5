"""``python -m provisioner``: the command line (see `provisioner.cli`; errors handled in `provisioner.entry`)."""

from provisioner.entry import main

raise SystemExit(main())
