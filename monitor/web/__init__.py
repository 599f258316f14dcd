"""HTTP: /healthz, /metrics (and, in later issues, the API and the officer page)."""
