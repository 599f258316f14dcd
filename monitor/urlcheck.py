"""Addresses that come from the environment (REDIS_URL, MONITOR_PUBLIC_URL, robot webhooks
filled in from secrets): only the schemes that can work, and passwords kept out of messages.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def redis_address(url: str) -> str:
    """REDIS_URL, checked with redis-py's own parser (so what passes here connects), plus
    what that parser lets through: a missing host or socket path, a database name."""
    shown = redact(url)
    try:
        parts = urlsplit(url)
        # Late: config is read by pure modules (the deadline policy) that need no Redis client.
        from redis.connection import parse_url as parse_redis_url

        scheme_ok = parts.scheme in ("redis", "rediss", "unix")
        if scheme_ok:
            parse_redis_url(url)
    except ValueError as exc:
        raise ValueError(f"{shown!r} is not a Redis address: {exc}") from None
    if not scheme_ok:
        raise ValueError(f"{shown!r} is not a Redis address: use redis://host:6379/0, "
                         "rediss://host:6380/0 or unix:///path/to/redis.sock")
    if parts.scheme == "unix" and not parts.path:
        raise ValueError(f"{shown!r}: unix:// needs the socket path, e.g. "
                         "unix:///run/redis/redis.sock")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"{shown!r}: no host; write e.g. redis://127.0.0.1:6379/0")
    if parts.scheme != "unix" and not re.fullmatch(r"/?[0-9]*", parts.path):
        raise ValueError(f"{shown!r}: the database after the host must be a number, e.g. /0")
    return url


def http_address(url: str) -> str:
    """An http(s) address with a host: what goes into links and requests."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{redact(url)!r} is not an http(s) address")
    return url


def redact(url: str) -> str:
    """The address without its password, for messages."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def listen_url(host: str, port: int) -> str:
    """The address officers reach a service listening on host:port (the default of
    MONITOR_PUBLIC_URL). A wildcard bind has no address of its own: the machine's name."""
    import socket

    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    """A name or address that only this machine reaches."""
    import ipaddress

    name = (host or "").strip("[]").lower()
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
