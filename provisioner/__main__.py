"""``python -m provisioner``: the command line (see `provisioner.cli`)."""

from provisioner.cli import app

app(prog_name="python -m provisioner")
