"""Turn fetched bytes into text, also when the declared charset is wrong or missing.

Chinese government sites commonly serve GBK/GB2312/GB18030 with no charset, with the
server's default ISO-8859-1, or with a prolog that disagrees with the header. The order:
the source's configured override; a byte-order mark; the XML spec's null-byte signatures
(UTF-16/32 without BOM); valid UTF-8; a declared multi-byte CJK charset that decodes
cleanly; then charset-normalizer's detection; then UTF-8 or a CJK charset that fits all
but a few bytes (those become U+FFFD); declared single-byte charsets only when none of
these fits. GB2312 and GBK are read as GB18030, their superset, as browsers do.

A single-byte codec "decodes" any bytes, in its own script: one bad byte in a Chinese feed
used to turn all of it into Cyrillic. `wrong_script` lets the poller hold such text back.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# XML 1.0 appendix F: how '<?' looks in each wide encoding when there is no BOM.
_XML_SIGNATURES = (
    (b"\x00\x00\x00\x3c", "utf-32-be"),
    (b"\x3c\x00\x00\x00", "utf-32-le"),
    (b"\x00\x3c\x00\x3f", "utf-16-be"),
    (b"\x3c\x00\x3f\x00", "utf-16-le"),
)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_META = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "euc_cn", "cp936"}
_CJK_MULTIBYTE = _GB_FAMILY | {"big5", "big5hkscs", "shift_jis", "euc_jp", "euc_kr", "cp949",
                               "cp950", "iso2022_jp"}
_META_SCAN_BYTES = 64 * 1024
# Charsets servers send by default whatever the page is in; a GBK page "declared" as one of
# these is common, so detection may overrule them. A deliberate KOI8-R or Windows-1251 is
# believed when it decodes.
_SERVER_DEFAULTS = {"iso8859-1", "cp1252", "ascii"}
# A repaired reading must have this many good non-ASCII characters per damaged place: a
# few bad bytes in a Chinese text pass, a wrong codec (errors every few words) fails.
_GOOD_PER_BAD = 10
_DAMAGE = re.compile("\ufffd+")
_MIN_GOOD = 4  # below this a lone bad byte says nothing ("Caf\xe9" is not broken UTF-8)
# Ways of choosing that cannot garble: the text is what the site (or operator) meant.
TRUSTED_METHODS = {"configured", "bom", "xml-signature", "valid-utf-8"}
_MIN_LETTERS_TO_JUDGE = 8


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    method: str  # how the encoding was chosen, for `monitor poll` and logs
    replaced: int = 0  # bad bytes that became U+FFFD ("repaired")


def canonical(name: str | None) -> str | None:
    """Python's codec name, with the GB family widened to GB18030; None if unknown."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    return "gb18030" if codec.replace("-", "_") in _GB_FAMILY else codec


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """Charsets the HTTP header, XML prolog and HTML meta claim, in that order."""
    found = []
    if content_type and (match := _HTTP_CHARSET.search(content_type)):
        found.append(match.group(1))
    head = body[:_META_SCAN_BYTES]
    if match := _XML_DECL.match(head):
        found.append(match.group(1).decode("ascii"))
    if match := _META.search(head):
        found.append(match.group(1).decode("ascii"))
    names = [c for c in (canonical(name) for name in found) if c]
    return list(dict.fromkeys(names))


def decode(body: bytes, content_type: str | None = None, override: str | None = None) -> Decoded:
    if override:
        return Decoded(body.decode(canonical(override) or override, "replace"), override,
                       "configured")
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return Decoded(body.decode(codec, "replace").lstrip("\ufeff"), codec, "bom")
    for signature, codec in _XML_SIGNATURES:
        if body.startswith(signature):
            return Decoded(body.decode(codec, "replace"), codec, "xml-signature")
    if _is_utf8(body):
        return Decoded(body.decode("utf-8"), "utf-8", "valid-utf-8")
    return _detect(body, declared_charsets(body, content_type))


def _detect(body: bytes, declared: list[str]) -> Decoded:
    for codec in declared:
        if codec not in _SERVER_DEFAULTS and (text := _strict(body, codec)):
            return Decoded(text, codec, "declared")
    # UTF-8's byte structure almost never fits by chance, while GB18030 reads most UTF-8
    # Chinese as other hanzi: UTF-8 with a few bad bytes is UTF-8.
    if repaired := _repaired(body, ["utf-8"]):
        return repaired
    guess = from_bytes(body[:_META_SCAN_BYTES]).best()
    guessed = canonical(guess.encoding) if guess else None
    if guessed and guessed.replace("-", "_") in _CJK_MULTIBYTE and (text := _strict(body, guessed)):
        return Decoded(text, guessed, "detected")
    if (text := _strict(body, "gb18030")) and _mostly_chinese(text):
        return Decoded(text, "gb18030", "detected")
    if repaired := _repaired(body, [*declared, guessed or "", "gb18030"]):  # CJK, few bad bytes
        return repaired
    for codec in declared:
        if text := _strict(body, codec):
            return Decoded(text, codec, "declared")
    if guessed and (text := _strict(body, guessed)):
        return Decoded(text, guessed, "detected")
    # Nothing decodes cleanly: GB18030 maps almost every byte sequence, and in this
    # service's world it is the likeliest; damaged characters become U+FFFD.
    return Decoded(body.decode("gb18030", "replace"), "gb18030", "fallback")


def _repaired(body: bytes, candidates: list[str]) -> Decoded | None:
    """The first multi-byte reading that fits all but a few bytes; those become U+FFFD.
    Single-byte codecs are never candidates: they fit any bytes, in their own script."""
    multibyte = [c for c in candidates if c == "utf-8" or c.replace("-", "_") in _CJK_MULTIBYTE]
    for codec in dict.fromkeys(multibyte):
        # The head first: a wrong codec fails there, without decoding a large body twice.
        if _damage(body[:_META_SCAN_BYTES].decode(codec, "replace")) is None:
            continue
        text = body.decode(codec, "replace")
        if (bad := _damage(text)) is not None:
            return Decoded(text, codec, "repaired", bad)
    return None


def _damage(text: str) -> int | None:
    """Damaged places in a reading, or None if there are more than a few."""
    bad = len(_DAMAGE.findall(text))  # one bad byte in UTF-8 can cost up to 3 U+FFFD
    good = len(text) - len(text.encode("ascii", "ignore")) - text.count("\ufffd")
    return bad if good >= _MIN_GOOD and bad <= max(1, good // _GOOD_PER_BAD) else None


def wrong_script(text: str) -> str | None:
    """'Cyrillic (93% of letters)' when the non-ASCII letters are mostly not Chinese, as
    when a Chinese document was decoded with a codec of another script; else None."""
    # Symbols count too: CP437 turns GBK into box drawing (BOX DRAWINGS ...), not letters.
    scripts = Counter(unicodedata.name(c, "UNKNOWN").split()[0] for c in text
                      if c > "\x7f" and (c.isalpha() or unicodedata.category(c) == "So"))
    total = sum(scripts.values())
    if total < _MIN_LETTERS_TO_JUDGE or scripts["CJK"] >= total / 2:
        return None
    script, count = scripts.most_common(1)[0]
    return f"{script.title()} ({count * 100 // total}% of letters)"


def _mostly_chinese(text: str) -> bool:
    """Pages that are mostly ASCII markup fool statistical detection; here Chinese is the
    likeliest language, so a clean GB18030 reading whose non-ASCII is nearly all hanzi and
    CJK punctuation is taken."""
    wide = [c for c in text if ord(c) > 0x7F]
    if len(wide) < 2:
        return False
    chinese = sum(1 for c in wide if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f"
                  or "\uff00" <= c <= "\uffef")
    return chinese >= 0.9 * len(wide)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def as_utf8_xml(decoded: Decoded) -> bytes:
    """The document as UTF-8 with its prolog saying so, for the feed parser."""
    text = re.sub(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""", r"\g<1>utf-8\g<2>",
                  decoded.text, count=1)
    return text.encode("utf-8")
