"""The shipped replay scenarios as a feed site would publish them: one feed per source (a
source that publishes on two channels or for two regions gets one feed for each, since a
feed's channel and region belong to the source), and every entry at its own time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.track.replay import ReplayItem

SAMPLES = Path(__file__).resolve().parent.parent / "track" / "samples"
SCENARIOS = ("replay_sample", "earthquake_scenario", "three_ways_scenario")


@dataclass(frozen=True)
class Entry:
    """One item of a scenario, as the feed `feed_id` publishes it at `published`."""

    feed_id: str
    title: str
    text: str
    link: str
    published: datetime


@dataclass(frozen=True)
class Feed:
    id: str
    name: str
    official: bool
    channel: str
    region: str | None


@dataclass
class Scenarios:
    feeds: list[Feed]
    entries: list[Entry]  # in publication order
    truths: dict[str, dict]  # scenario name → its truth file


def load_scenarios(names: tuple[str, ...] = SCENARIOS, samples: Path = SAMPLES) -> Scenarios:
    feeds: dict[tuple, Feed] = {}
    entries: list[Entry] = []
    for name in names:
        for line in (samples / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = ReplayItem.model_validate_json(line)
            feed = _feed_for(item, feeds)
            entries.append(Entry(feed.id, item.title, item.text, item.link or "",
                                 item.published))
    truths = {n: json.loads((samples / f"{n}.truth.json").read_text(encoding="utf-8"))
              for n in names}
    return Scenarios(list(feeds.values()), sorted(entries, key=lambda e: e.published), truths)


def _feed_for(item: ReplayItem, feeds: dict[tuple, Feed]) -> Feed:
    key = (item.source_id, item.official, item.channel.value, item.region)
    if key not in feeds:
        taken = sum(1 for k in feeds if k[0] == item.source_id)
        feed_id = item.source_id if not taken else f"{item.source_id}-{taken + 1}"
        feeds[key] = Feed(feed_id, item.source_id, item.official, item.channel.value,
                          item.region)
    return feeds[key]
