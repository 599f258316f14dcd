"""A figure's event ids fit in one spreadsheet cell, or say where the rest are."""

from __future__ import annotations

from monitor.report.tabular import MAX_CELL, ids_cell


def test_a_few_ids_are_listed_whole():
    assert ids_cell(["ev-1", "ev-2"]) == "ev-1 ev-2"


def test_more_ids_than_a_cell_holds_point_to_the_detail_sheet():
    ids = [f"ev-{n:012x}" for n in range(5000)]  # 16 characters each with the space: 80,000
    cell = ids_cell(ids)
    assert len(cell) <= MAX_CELL
    assert cell.startswith("ev-000000000000 ev-000000000001 ")
    assert cell.endswith(" … 共5000个，全部见「回应解读明细」")
    listed = cell.split(" … ")[0].split(" ")
    assert listed == ids[:len(listed)]  # whole ids only, in order
