"""The JSON-lines contract of `monitor classify --jsonl` (evaluation outside the suite reads it)."""

from __future__ import annotations

import io
import json

from classifiers import JSONL_KEYS, cli


def _run(lines: list[str], shipped) -> tuple[list[dict], int, int]:
    src = io.StringIO("\n".join(lines) + "\n")
    dst = io.StringIO()
    written, skipped = cli.classify_jsonl(src, dst, shipped)
    return [json.loads(x) for x in dst.getvalue().splitlines()], written, skipped


def test_one_line_per_input_with_exactly_the_contract_keys(shipped):
    rows, written, skipped = _run(
        [
            json.dumps(
                {"id": "a1", "text": "昆明市五华区某小区发生火灾，造成2人死亡、12人重伤"},
                ensure_ascii=False,
            ),
            json.dumps({"id": 7, "text": "周杰伦新专辑发布"}, ensure_ascii=False),
        ],
        shipped,
    )
    assert (written, skipped) == (2, 0)
    assert [tuple(r) for r in rows] == [JSONL_KEYS, JSONL_KEYS]
    assert JSONL_KEYS == (
        "id",
        "topic",
        "topic_p",
        "incident",
        "incident_p",
        "severity",
        "severity_evidence",
        "region",
    )
    fire, song = rows
    assert fire["id"] == "a1" and song["id"] == 7
    assert fire["incident"] == "事故灾难"
    assert fire["severity"] == "较大"  # 12 serious injuries ≥ 10
    assert fire["severity_evidence"] == {"deaths": 2, "serious_injuries": 12, "injured": 12}
    assert fire["region"] == {"prefecture": "昆明市", "county": "五华区"}
    assert song["region"] is None and song["severity"] is None and song["topic"] == "无关"
    for r in rows:
        assert isinstance(r["topic_p"], float) and 0 <= r["topic_p"] <= 1
        assert isinstance(r["incident_p"], float) and 0 <= r["incident_p"] <= 1


def test_bad_lines_are_skipped_and_reported(shipped, capsys):
    rows, written, skipped = _run(
        ['{"id": 1, "text": "大理州洱海治理"}', "not json", '{"id": 2}', "[1, 2]"], shipped
    )
    assert (written, skipped) == (1, 3)
    assert rows[0]["id"] == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "line 3" in err


def test_cli_files_end_to_end(tmp_path, shipped):
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    src.write_text('{"id": "x", "text": "西双版纳州景洪市登革热病例增加"}\n', encoding="utf-8")
    assert cli.main(["classify", "--jsonl", str(src), "--out", str(out)]) == 0
    [row] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert row["id"] == "x" and row["region"]["prefecture"] == "西双版纳傣族自治州"


def test_cli_prints_a_readable_verdict(capsys):
    assert cli.main(["classify", "曲靖市富源县一煤矿发生瓦斯爆炸，造成11名矿工遇难"]) == 0
    out = capsys.readouterr().out
    assert "事件类型：事故灾难" in out
    assert "严重程度：重大" in out and "deaths=11" in out
    assert "曲靖市 / 富源县" in out


def test_cli_classifies_each_argument_separately(capsys):
    texts = ["曲靖市富源县一煤矿发生瓦斯爆炸，造成11名矿工遇难", "湖人队主场击败勇士队"]
    assert cli.main(["classify", "--json", *texts]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == texts  # one JSON line per input, in order
    assert rows[0]["incident"]["label"] == "事故灾难" and rows[1]["incident"]["label"] == "无"


def test_register_adds_three_commands_with_handlers():
    import argparse

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    for argv in (["classify", "x"], ["train", "--select"], ["evaluate", "--out", "/tmp/x"]):
        args = parser.parse_args(argv)
        assert callable(args.func)
