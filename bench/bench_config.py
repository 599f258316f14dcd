"""How fast hostile config files are refused (run: .venv/bin/python bench/bench_config.py).
Prints figures; asserts nothing.

The unit tests (tests/test_yamlconfig.py) check that the reader refuses an alias bomb and
absurd nesting after composing only the nodes that lead there; this times the refusal for
each config file's reader, and the shipped files' normal load for comparison.
"""

from __future__ import annotations

import statistics
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.config import load_feeds  # noqa: E402
from monitor.errors import ConfigError  # noqa: E402
from monitor.notify.config import load_notify_config  # noqa: E402
from monitor.track.policy import load_policy  # noqa: E402

DATA = ROOT / "tests" / "testdata"
LOADERS = {"feeds": load_feeds, "tracking": load_policy,
           "notify": partial(load_notify_config, env={})}
SHIPPED = {"feeds": ROOT / "feeds.yaml", "tracking": ROOT / "tracking.yaml",
           "notify": ROOT / "notify.yaml"}
RUNS = 20


def timed(load, path: Path) -> float:
    """Median milliseconds of RUNS loads (refused or not)."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        try:
            load(path)
        except ConfigError:
            pass
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    print(f"{'file':<10}{'alias bomb':>14}{'nesting':>12}{'shipped file':>15}   (median ms)")
    for name, load in LOADERS.items():
        bomb = timed(load, DATA / "config.bad_alias_bomb.yaml")
        nesting = timed(load, DATA / "config.bad_nesting.yaml")
        shipped = timed(load, SHIPPED[name])
        print(f"{name:<10}{bomb:>14.2f}{nesting:>12.2f}{shipped:>15.2f}")


if __name__ == "__main__":
    main()
