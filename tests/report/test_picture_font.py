"""The pictures (the monthly report's, the wall's) find a Chinese font installed after
matplotlib first cached its font list, so their labels never come out as boxes."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib import font_manager

from monitor.report.picture import _CJK_FILES, cjk_font


def test_a_chinese_font_on_disk_is_used_though_matplotlib_listed_its_fonts_before():
    on_disk = [p for p in font_manager.findSystemFonts() if _CJK_FILES.search(Path(p).name)]
    if not on_disk:
        pytest.skip("no Chinese font on this machine (.ci/run installs fonts-wqy-microhei)")
    assert cjk_font() in {f.name for f in font_manager.fontManager.ttflist}
    assert "Hei" in cjk_font() or "CJK" in cjk_font() or "Han" in cjk_font()
