"""tracking.yaml: the shipped file is the DOMAIN.md defaults; each bad file gets exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.track.policy import default_policy, load_policy

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "testdata"


def test_shipped_tracking_file_is_the_documented_defaults():
    assert load_policy(ROOT / "tracking.yaml") == default_policy()


def test_no_file_means_defaults_but_a_named_missing_file_is_an_error(tmp_path, monkeypatch):
    assert load_policy(None) == default_policy()
    monkeypatch.chdir(tmp_path)  # no tracking.yaml here: the built-in defaults
    assert load_policy(Path("tracking.yaml")) == default_policy()
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_policy(Path("/nonexistent/tracking.yaml"))


@pytest.mark.parametrize(("name", "expected"), [
    ("calendar", [":4: calendar[2031].workday: unknown key (allowed: holidays, workdays)"]),
    ("rule", [":2: rules[0] (id=response_48h): give exactly one of 'within' (e.g. 48h) or "
              "'working_days'",
              ":8: rules[1] (id=response_48h).within: 'two days' is not a duration; write e.g. "
              "90s, 15m or 1h",
              ":9: rules[1] (id=response_48h).met_by[0]: Input should be '新闻发布会', "
              "'在线访谈', '政策解读', '微博/微信' or '其他'",
              ":9: rules[1] (id=response_48h).met_by: Input should be 'any'",
              ":6: rules[1] (id=response_48h).id: duplicate id, first used on line 2"]),
    # Checks across fields run once the fields are valid: the order of fractions comes next.
    ("fractions", [":3: grouping.join_threshold: Input should be less than or equal to 1"]),
])
def test_each_bad_policy_file_gets_its_exact_messages(name, expected):
    path = DATA / f"tracking.bad_{name}.yaml"
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert caught.value.problems == [f"{path}{line}" for line in expected]
