"""Redis access: key names, the embedded server, and one module per aggregate."""
