"""Decoding fetched bytes: wrong, missing and honest charset declarations."""

from __future__ import annotations

import re

import pytest

from monitor.collect.encoding import canonical, declared_charsets, decode, wrong_script
from tests.fakesite import rss

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


@pytest.mark.parametrize(("codec", "declared", "title"), [
    ("koi8-r", "KOI8-R", "Пример RSS ленты"),  # a declared KOI8-R is believed
    ("latin-1", None, "Café"),  # not taken for UTF-8 with one bad byte
])
def test_single_byte_texts_keep_their_letters(codec, declared, title):
    prolog = f'<?xml version="1.0" encoding="{declared}"?>' if declared else "<?xml version='1.0'?>"
    text = f"{prolog}<rss><channel><title>{title}</title>"
    assert title in decode(text.encode(codec)).text


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


NOTICES = ["云南省人民政府关于做好冬春森林防火工作的通知", "昭通市镇雄县通报一起交通事故处置情况",
           "红河州持续推进减税降费"]
# Hanzi in random order, as in a drill with generated feeds: with one bad byte, the old
# detector read this UTF-8 feed as PTCP154, so every title came out in Cyrillic.
SALAD = ["红降通持一州州府处起处政州省人南工省工的", "事一况推持知南报知防林昭减", "南通交春镇做冬林政"]


def _titles(text: str) -> list[str]:
    return re.findall(r"<item><title>(.*?)</title>", text)


@pytest.mark.parametrize(("titles", "encoding", "content_type", "hit"), [
    (NOTICES, "gbk", "text/xml; charset=iso-8859-1", "镇"),  # was Latin-1 mojibake
    (NOTICES, "utf-8", "text/xml; charset=utf-8", "镇"),  # was GB18030 mojibake
    (SALAD, "utf-8", None, "况"),  # was Cyrillic
], ids=["gbk-as-latin1", "utf8-declared", "utf8-undeclared"])
@pytest.mark.parametrize("bad", [b"\xff", b"\x80"], ids=["ff", "80"])
def test_one_bad_byte_costs_one_title_not_the_feed(titles, encoding, content_type, hit, bad):
    body = rss("要闻", [(t, f"http://e.gov.cn/{n}", "2026-11-20") for n, t in enumerate(titles)],
               encoding=encoding)
    at = body.index(hit.encode(encoding))
    decoded = decode(body[:at] + bad + body[at + 1:], content_type)
    assert (decoded.encoding, decoded.method) == (canonical(encoding), "repaired")
    assert 1 <= decoded.replaced <= 2  # GBK resynchronises one character later
    damaged = [n for n, (got, want) in enumerate(zip(_titles(decoded.text), titles,
                                                     strict=True)) if got != want]
    assert damaged == [next(n for n, t in enumerate(titles) if hit in t)]


@pytest.mark.parametrize(("text", "verdict"), [
    ("云南省人民政府关于做好冬春森林防火工作的通知 Kunming résumé", None),
    ("Yunnan provincial government notice on forest fire prevention", None),  # ASCII only
    (NOTICES[0].encode("gbk").decode("ptcp154"), "Cyrillic"),
    (NOTICES[0].encode("gbk").decode("latin-1"), "Latin"),
    (NOTICES[0].encode("gbk").decode("cp437"), "Box"),  # mostly symbols, few letters
    ("云南省政府通报 👍👍 ☺", None),  # a few emoji do not outweigh the hanzi
])
def test_wrong_script_names_the_script_chinese_text_was_garbled_into(text, verdict):
    found = wrong_script(text)
    assert (found.split()[0] if found else None) == verdict
