"""`monitor demo` / `make demo`: the whole product offline, on the shipped replay scenarios."""
