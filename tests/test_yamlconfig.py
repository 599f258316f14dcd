"""Every config file is read by one strict YAML reader: hostile YAML fails at once, with the
file and line, whichever file it is in."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest

from monitor.config import load_feeds
from monitor.errors import ConfigError
from monitor.notify.config import load_notify_config
from monitor.track.policy import load_policy

DATA = Path(__file__).parent / "testdata"


@pytest.mark.parametrize("load", [load_feeds, load_policy, partial(load_notify_config, env={})],
                         ids=["feeds", "tracking", "notify"])
@pytest.mark.parametrize(("name", "expected"), [
    # nine lines, each nine aliases of the one before: 9⁹ nodes once expanded (before: >20 s
    # and >1.3 GB when stopped; about 50 s and 3.5 GB to the end)
    ("alias_bomb", ":2: YAML aliases (*a) are not allowed in configuration files; write the "
                   "value out"),
    # a thousand nested brackets: a RecursionError traceback before
    ("nesting", ":2: nested more than 64 levels deep"),
], ids=str)
def test_hostile_yaml_is_refused_at_once(load, name, expected):
    path = DATA / f"config.bad_{name}.yaml"
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert time.perf_counter() - started < 1
    assert caught.value.problems == [f"{path}{expected}"]
