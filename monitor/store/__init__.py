"""Redis access: key names, the embedded server, and one module per aggregate."""


def as_text(value: bytes | str) -> str:
    """Replies stay bytes (clients are built without decode_responses); names are UTF-8."""
    return value.decode() if isinstance(value, bytes) else value
