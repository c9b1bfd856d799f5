"""Microsoft Graph, read-only: `GraphReader` (reader.py) on the shared transport, its sign-in (signin.py),
response models (models.py) and call machinery (base.py). See docs/graph.md."""
