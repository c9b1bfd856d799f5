"""Pulumi entry point: build this stack from config/<stack>.yaml. All logic lives in `provisioner`."""

from provisioner.program import main

main()
