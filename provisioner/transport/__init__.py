"""The HTTP transport every outside API client shares: connections (TLS trust, one pool per process, proxies,
the per-call deadline), retry policy (backoff, ``Retry-After``) and secret scrubbing. No API shapes here."""
