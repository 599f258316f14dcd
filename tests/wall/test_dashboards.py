"""The dashboards as Grafana will load them: generated from code and in sync, unique panel
ids, a grid without overlaps, and every data source a provisioned uid."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from monitor.wall.dashboards import DASHBOARDS, render

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "dashboards"
PROVISIONING = DASHBOARD_DIR / "provisioning"


def load(name: str) -> dict:
    return json.loads((DASHBOARD_DIR / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_committed_json_is_what_the_code_builds(name):
    assert (DASHBOARD_DIR / name).read_text(encoding="utf-8") == render(DASHBOARDS[name]), \
        f"dashboards/{name} is stale: run `python -m monitor.wall.dashboards`"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_have_unique_ids_and_do_not_overlap(name):
    panels = load(name)["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for p in panels:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
    for a, b in itertools.combinations(panels, 2):
        assert not overlap(a["gridPos"], b["gridPos"]), (a["title"], b["title"])


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def test_the_overlap_check_sees_an_overlap():
    assert overlap({"x": 0, "y": 0, "w": 12, "h": 4}, {"x": 11, "y": 3, "w": 4, "h": 4})
    assert not overlap({"x": 0, "y": 0, "w": 12, "h": 4}, {"x": 12, "y": 0, "w": 4, "h": 4})


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_datasource_is_a_provisioned_uid(name):
    provisioned = {ds["uid"] for f in (PROVISIONING / "datasources").glob("*.yaml")
                   for ds in yaml.safe_load(f.read_text(encoding="utf-8"))["datasources"]}
    dashboard = load(name)
    assert 8 <= len(dashboard["uid"]) <= 40 and "id" not in dashboard
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for ref in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
            assert ref["type"] == "prometheus" and ref["uid"] in provisioned, panel["title"]


def test_the_dashboard_provider_reads_where_compose_mounts_the_json():
    [provider] = yaml.safe_load(
        (PROVISIONING / "dashboards" / "yq.yaml").read_text(encoding="utf-8"))["providers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    mounts = dict(v.split(":")[1::-1] for v in compose["services"]["grafana"]["volumes"]
                  if v.startswith("./"))
    assert mounts[provider["options"]["path"]] == "./dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./dashboards/provisioning"


def test_the_wall_speaks_chinese():
    for panel in load("wall.json")["panels"]:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in panel["title"]), panel["title"]


def test_wall_png_says_when_prometheus_cannot_be_reached(tmp_path, capsys):
    from monitor.cli import main
    from tests.test_service import free_port

    port = free_port()  # nothing listens there
    assert main(["wall", "--png", str(tmp_path / "w.png"),
                 "--prometheus", f"http://127.0.0.1:{port}"]) == 1
    assert f"cannot query Prometheus at http://127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "w.png").exists()
