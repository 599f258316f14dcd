"""Prometheus's own checks of the repo's config and alert rules, and the rules' unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")


def run(*args: str, cwd: Path = ROOT) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(PROMTOOL is None, reason="promtool missing (apt-get install prometheus)")
def test_config_rules_and_rule_tests_pass():
    run(PROMTOOL, "check", "config", "--syntax-only", "prometheus/prometheus.yml")
    run(PROMTOOL, "check", "rules", *map(str, sorted((ROOT / "prometheus/rules").glob("*.yml"))))
    run(PROMTOOL, "test", "rules", *(p.name for p in sorted(
        (ROOT / "prometheus/tests").glob("*.yml"))), cwd=ROOT / "prometheus/tests")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool missing (apt-get install prometheus)")
def test_rule_tests_fail_when_a_rule_is_wrong(tmp_path):
    """The unit tests can fail: a 'service down' rule that never fires breaks them."""
    shutil.copytree(ROOT / "prometheus", tmp_path / "prometheus")
    rules = tmp_path / "prometheus/rules/yq.yml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        'up{job="yq-monitor"} == 0', 'up{job="yq-monitor"} == 2'), encoding="utf-8")
    with pytest.raises(AssertionError):
        run(PROMTOOL, "test", "rules", "yq_test.yml", cwd=tmp_path / "prometheus/tests")


@pytest.mark.skipif(AMTOOL is None, reason="amtool missing (apt-get install prometheus-alertmanager)")
def test_alertmanager_config():
    run(AMTOOL, "check-config", "alertmanager/alertmanager.yml")
