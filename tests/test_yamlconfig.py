"""Every config file is read by one strict YAML reader: hostile YAML fails at once, with the
file and line, whichever file it is in."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from monitor import yamlconfig
from monitor.config import load_feeds
from monitor.errors import ConfigError
from monitor.notify.config import load_notify_config
from monitor.track.policy import load_policy
from monitor.yamlconfig import _ConfigLoader

DATA = Path(__file__).parent / "testdata"


@pytest.mark.parametrize("load", [load_feeds, load_policy, partial(load_notify_config, env={})],
                         ids=["feeds", "tracking", "notify"])
@pytest.mark.parametrize(("name", "expected", "nodes"), [
    # nine lines, each nine aliases of the one before: 9⁹ nodes once expanded (before: >20 s
    # and >1.3 GB when stopped; about 50 s and 3.5 GB to the end). Refused at the first alias:
    # the top mapping, key a, its list and nine items, key b, its list, and the alias.
    ("alias_bomb", ":2: YAML aliases (*a) are not allowed in configuration files; write the "
                   "value out", 1 + 1 + 1 + 9 + 1 + 1 + 1),
    # a thousand nested brackets: a RecursionError traceback before; refused 64 levels down
    ("nesting", ":2: nested more than 64 levels deep", 2 + 64),
], ids=str)
def test_hostile_yaml_is_refused_at_once(load, name, expected, nodes, monkeypatch):
    """'At once' in work, not seconds (timed in bench/bench_config.py): the reader refuses
    after composing only the nodes that lead to the refusal, and builds no value at all."""
    work = count_yaml_work(monkeypatch, budget=200)
    path = DATA / f"config.bad_{name}.yaml"
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.problems == [f"{path}{expected}"]
    assert work == {"composed": nodes, "constructed": 0, "indexed": 0}


def count_yaml_work(monkeypatch, budget: int) -> dict[str, int]:
    """Count the nodes the config reader composes, the values it constructs and the tree
    walks for line numbers; past `budget` composed nodes (or on any construction), stop the
    load with an AssertionError instead of letting an expansion run for minutes."""
    work = {"composed": 0, "constructed": 0, "indexed": 0}
    compose = _ConfigLoader.compose_node
    index = yamlconfig.line_index

    def composing(self, parent, position):
        work["composed"] += 1
        assert work["composed"] <= budget, f"composed more than {budget} nodes"
        return compose(self, parent, position)

    def constructing(self, node, deep=False):
        work["constructed"] += 1
        raise AssertionError("a value was constructed from a refused document")

    def indexing(node, path=()):
        work["indexed"] += 1
        return index(node, path)

    monkeypatch.setattr(_ConfigLoader, "compose_node", composing)
    monkeypatch.setattr(_ConfigLoader, "construct_object", constructing)
    monkeypatch.setattr(yamlconfig, "line_index", indexing)
    return work
