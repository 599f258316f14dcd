"""Named officers (officers.yaml): who may read, act on events, or administer, and the hash
of each one's token. Tokens are issued by `monitor officers add/token`, shown once, and
stored only as an scrypt hash (hashlib, standard library), so the file can be read by the
service without holding any secret.

A token is `<token id>.<secret>`: the id finds the officer without hashing against every
entry; the secret is checked against the hash in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import structlog
import yaml
from pydantic import BaseModel, ConfigDict, Field

from monitor.errors import ConfigError
from monitor.yamlconfig import load_yaml_model

log = structlog.get_logger("monitor.officers")

# scrypt cost: ~30 ms per check on a laptop core; verified tokens are cached per process.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
TOKEN_ID_BYTES, SECRET_BYTES = 6, 24


class Role(StrEnum):
    VIEWER = "viewer"  # reads the page and the API from anywhere
    OFFICER = "officer"  # also acts on events
    ADMIN = "admin"  # also silences topics and regions

    def allows(self, needed: Role) -> bool:
        order = [Role.VIEWER, Role.OFFICER, Role.ADMIN]
        return order.index(self) >= order.index(needed)


class Officer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=40)]
    role: Role = Role.OFFICER
    token_id: Annotated[str, Field(pattern=r"^[a-f0-9]{8,32}$")]
    token_hash: Annotated[str, Field(pattern=r"^scrypt\$")]


class OfficersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    officers: list[Officer] = Field(default_factory=list)


def _unique(path: Path, data: dict, lines: dict) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for index, entry in enumerate(data.get("officers") or []):
        if not isinstance(entry, dict):
            continue
        for field in ("name", "token_id"):
            value = str(entry.get(field))
            if (field, value) in seen:
                line = lines.get(("officers", index), "?")
                problems.append(f"{path}:{line}: officers[{index}].{field}: {value!r} is "
                                f"used twice")
            seen[(field, value)] = field
    return problems


def load_officers(path: Path) -> OfficersFile:
    """The officers file, or an empty one when it does not exist (loopback use only)."""
    if not path.exists():
        return OfficersFile()
    return load_yaml_model(path, OfficersFile, checks=(_unique,))


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     _b64(salt), _b64(digest)])


def secret_matches(secret: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def new_token() -> tuple[str, str, str]:
    """(token shown once, token id, hash to store)."""
    token_id, secret = secrets.token_hex(TOKEN_ID_BYTES), secrets.token_urlsafe(SECRET_BYTES)
    return f"{token_id}.{secret}", token_id, hash_secret(secret)


class Officers:
    """Finds the officer a token belongs to. Made `from_path`, it follows the file: an officer
    added or a token rotated with `monitor officers` counts at the next request, without a
    restart; a file broken meanwhile keeps the officers it had, and says so once."""

    def __init__(self, file: OfficersFile, path: Path | None = None) -> None:
        self._path, self._stamp = path, _stamp(path)
        self._use(file)

    @classmethod
    def from_path(cls, path: Path) -> Officers:
        return cls(load_officers(path), path)

    def _use(self, file: OfficersFile) -> None:
        self._by_token_id = {o.token_id: o for o in file.officers}
        self._verified: dict[bytes, Officer] = {}  # sha256(token) → officer, this process

    def _follow_file(self) -> None:
        stamp = _stamp(self._path)
        if self._path is None or stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self._use(load_officers(self._path))
        except ConfigError as exc:
            log.error("officers_file_unreadable", problems=exc.problems,
                      hint="the officers read before stay in force; fix the file")
            return
        log.info("officers_reloaded", officers=len(self._by_token_id))

    def __len__(self) -> int:
        self._follow_file()
        return len(self._by_token_id)

    def by_name(self, name: str) -> Officer | None:
        self._follow_file()
        return next((o for o in self._by_token_id.values() if o.name == name), None)

    def check(self, token: str) -> Officer | None:
        self._follow_file()
        token_id, _, secret = token.strip().partition(".")
        officer = self._by_token_id.get(token_id)
        if officer is None or not secret:
            return None
        fingerprint = hashlib.sha256(token.encode()).digest()
        if self._verified.get(fingerprint) == officer:
            return officer
        if not secret_matches(secret, officer.token_hash):
            return None
        self._verified[fingerprint] = officer
        return officer


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if stat else None


def issue_token(path: Path, name: str, role: Role | None = None,
                create: bool = False) -> str:
    """Add the officer (`create`) or give an existing one a new token; the old one stops
    working. Returns the token, which is not stored anywhere."""
    current = load_officers(path)
    existing = next((o for o in current.officers if o.name == name), None)
    if create and existing is not None:
        raise ConfigError([f"{path}: officer {name!r} exists; `monitor officers token "
                           f"{name}` gives a new token"])
    if not create and existing is None:
        raise ConfigError([f"{path}: no officer {name!r}; `monitor officers add {name}` "
                           "adds one"])
    token, token_id, hashed = new_token()
    officer = Officer(name=name, role=role or (existing.role if existing else Role.OFFICER),
                      token_id=token_id, token_hash=hashed)
    others = [o for o in current.officers if o.name != name]
    _write(path, OfficersFile(officers=[*others, officer]))
    return token


def _write(path: Path, file: OfficersFile) -> None:
    text = ("# Officers of the duty page and the write API (monitor officers add/token).\n"
            "# Only token hashes are stored here; a token is shown once when issued.\n"
            + yaml.safe_dump(file.model_dump(mode="json"), allow_unicode=True,
                             sort_keys=False))
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)  # atomic: the service never reads half a file
