"""The operator commands: ``python -m provisioner <command>``.

* `entry`: the process entry (an escaped exception is one line, exit 1; ``--debug`` for the traceback).
* `app`: the Typer application, its flags and help; each command imports its module lazily.
* One module per command or report: `plan` (offline plan under Pulumi mocks), `status` (expiry report and
  exit codes), `doctor/` (read-only preflight, one module per outside system), `diff` (two plans compared),
  `annotations` (problems as CI annotations), `catalog_report` (the catalog as JSON, table, Markdown).
"""
