"""Decoding fetched bytes: wrong, missing and honest charset declarations."""

from __future__ import annotations

import pytest

from monitor.collect.encoding import canonical, declared_charsets, decode

TEXT = "云南省人民政府办公厅关于进一步做好政务舆情回应工作的通知：各州、市人民政府，省直各部门。"
TRADITIONAL = "雲南省人民政府辦公廳關於進一步做好政務輿情回應工作的通知：各州、市人民政府。"


def page(body: str, meta: str | None) -> str:
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    return f"<html><head>{head}<title>通知</title></head><body><p>{body}</p></body></html>"


@pytest.mark.parametrize(
    ("encoding", "meta", "content_type", "method"),
    [
        ("gbk", "gbk", None, "declared"),
        ("gbk", "gb2312", "text/html; charset=ISO-8859-1", "declared"),
        ("gbk", None, "text/html; charset=ISO-8859-1", "detected"),
        ("gbk", "utf-8", "text/html; charset=utf-8", "detected"),
        ("gb18030", None, None, "detected"),
        ("gb2312", "iso-8859-1", None, "detected"),
        ("utf-8", "gbk", "text/html; charset=gb2312", "valid-utf-8"),
        ("utf-8", None, None, "valid-utf-8"),
        ("big5", "big5", None, "declared"),
    ],
)
def test_chinese_pages_decode_whatever_they_claim(encoding, meta, content_type, method):
    html = page(TRADITIONAL if encoding == "big5" else TEXT, meta)
    decoded = decode(html.encode(encoding), content_type)
    assert decoded.text == html
    assert decoded.method == method


def test_koi8r_declared_is_believed():
    text = '<?xml version="1.0" encoding="KOI8-R"?><rss><channel><title>Пример RSS ленты</title>'
    assert "Пример RSS ленты" in decode(text.encode("koi8-r")).text


def test_configured_override_wins():
    body = TEXT.encode("gbk")
    decoded = decode(body, "text/html; charset=utf-8", override="gbk")
    assert decoded.text == TEXT and decoded.method == "configured"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_wide_xml_without_bom_is_recognised(codec):
    xml = f'<?xml version="1.0" encoding="{codec[:6]}"?><rss><title>{TEXT}</title></rss>'
    assert decode(xml.encode(codec)).text == xml


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-32"])
def test_byte_order_marks(codec):
    assert decode(TEXT.encode(codec)).text == TEXT


def test_undecodable_bytes_fall_back_without_raising():
    decoded = decode(b"\x81\x30\xff\xfe\xfd" * 3, None)
    assert decoded.method in ("fallback", "detected", "declared")


def test_declarations_in_order_and_gb_family_widened():
    body = b'<?xml version="1.0" encoding="GB2312"?><html><meta charset="gbk">'
    assert declared_charsets(body, "text/xml; charset=utf-8") == ["utf-8", "gb18030"]
    assert canonical("x-unknown") is None
