"""Every Redis key name and TTL the service uses, in one place.

All keys start with a prefix (MONITOR_KEY_PREFIX, default 'yq:') so one Redis can hold
several deployments, and so tests can isolate themselves without flushing a shared server.
"""

from __future__ import annotations

from dataclasses import dataclass

# How long an in-flight poll keeps its lease on a source; a process that dies mid-poll
# frees the source after this, so another process takes it over.
POLL_LEASE_SECONDS = 120
# Fetch results are remembered per item id for the retention period: the dedup window.
DEFAULT_RETENTION_SECONDS = 90 * 86400


@dataclass(frozen=True)
class Keys:
    prefix: str = "yq:"

    @property
    def items_stream(self) -> str:
        """Stream of new items; later stages read it through consumer groups."""
        return f"{self.prefix}items"

    def seen(self, item_id: str) -> str:
        """Marker that an item was emitted (string, TTL = retention)."""
        return f"{self.prefix}seen:{item_id}"

    @property
    def schedule(self) -> str:
        """Sorted set: source id → next poll time (unix seconds); also the poll lease."""
        return f"{self.prefix}sources:schedule"

    def source_state(self, source_id: str) -> str:
        """Hash of one source's polling state (failures, validators, last error ...)."""
        return f"{self.prefix}source:{source_id}"

    def lease_owner(self, source_id: str) -> str:
        """Who holds the poll lease on a source (string, TTL = POLL_LEASE_SECONDS)."""
        return f"{self.prefix}lease:{source_id}"

    @property
    def heartbeat(self) -> str:
        """Hash: worker name → last heartbeat (unix seconds)."""
        return f"{self.prefix}workers"
