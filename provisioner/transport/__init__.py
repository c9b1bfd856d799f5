"""The HTTP transport every outside API client shares: connections (TLS trust, one pool per process, proxies,
the per-call deadline), retry policy (backoff, ``Retry-After``) and secret scrubbing: `env_secrets` (every secret the
process holds), `secret_shapes` (text shaped like a credential) and `scrub` (`scrub_message`, used wherever outside
text is shown). No API shapes here."""
