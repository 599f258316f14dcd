"""`monitor demo` end to end: the shipped scenarios through the whole service (feed site →
collector → events worker → timers → robot, SQL history, monthly export), checked against
the scenarios' truth files."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from monitor.demo.run import DemoOptions, run_demo
from monitor.demo.scenarios import load_scenarios

DEMO_BOUND_SECONDS = 240  # the demo takes well under a minute alone; CI machines are shared


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo") / "var"
    lines: list[str] = []
    result = asyncio.run(asyncio.wait_for(
        run_demo(DemoOptions(data_dir=data, show_messages=False), say=lines.append),
        DEMO_BOUND_SECONDS))
    return result, lines


def _event_links(result) -> dict[str, str]:
    """link → id of the event that took it (as a report or as a response)."""
    owner = {}
    for event in result.events:
        for ref in result.refs[event.id]:
            owner[ref.link] = event.id
        for response in event.responses:
            owner[response.link] = event.id
    return owner


def test_every_scenario_item_is_collected_once(demo):
    result, _ = demo
    assert result.items == len(load_scenarios().entries)
    owner = _event_links(result)
    truth_links = {link for t in load_scenarios().truths.values()
                   for link in t.get("clusters", t)}
    reported = {link for link in truth_links if not _noise(link)}
    assert reported <= owner.keys()


def _noise(link: str) -> bool:
    labels = {}
    for truth in load_scenarios().truths.values():
        labels.update(truth.get("clusters", truth))
    return labels[link].startswith("noise")


def test_items_of_one_story_form_one_event(demo):
    result, _ = demo
    owner = _event_links(result)
    for truth in load_scenarios().truths.values():
        clusters = truth.get("clusters", truth)
        stories: dict[str, set[str]] = {}
        for link, story in clusters.items():
            if not story.startswith("noise"):
                stories.setdefault(story, set()).add(owner.get(link))
        for story, events in stories.items():
            assert len(events) == 1, f"{story} spread over events {events}"


def test_deadline_outcomes_match_the_truth_files(demo):
    result, _ = demo
    owner = _event_links(result)
    by_id = {e.id: e for e in result.events}
    checked = 0
    for truth in load_scenarios().truths.values():
        clusters = truth.get("clusters", {})
        for story, expected in truth.get("outcomes", {}).items():
            link = next(k for k, v in clusters.items() if v == story)
            event = by_id[owner[link]]
            assert event.severity == expected["severity"], story
            assert event.first_seen == datetime.fromisoformat(expected["first_seen"]), story
            outcomes = {d.rule: d.state.value for d in event.deadlines}
            for rule in expected.get("met_at", {}):
                assert outcomes[rule] == expected[rule], f"{story} {rule}"
                checked += 1
    assert checked == 5


def test_summary_counts_what_happened_and_names_the_exports(demo):
    result, lines = demo
    outcomes = result.outcomes
    assert outcomes["met"] >= 5 and outcomes["met_late"] >= 1 and outcomes["missed"] >= 1
    summary = "\n".join(lines[lines.index("\n== demo summary"):])
    assert (f"deadlines: {outcomes['met']} met, {outcomes['met_late']} late, "
            f"{outcomes['missed']} missed") in summary
    assert f"{len(result.messages)} messages delivered to the robot" in summary
    assert len(result.messages) >= len(result.events)  # every event announced at least once
    assert any("【新舆情待回应】" in m.text for m in result.messages)
    months = sorted(p.name for p in result.exports)
    assert months == ["monthly-2026-10.xlsx", "monthly-2026-11.xlsx"]
    assert all(p.stat().st_size > 0 and str(p) in summary for p in result.exports)
    assert "duty page" in lines[1] and "/login" in lines[2]
