"""Posts of social accounts (Weibo, WeChat official accounts) and message boards, as RSSHub
writes them, → what an item needs: a title (posts have none), the account's own words, and
what it reposted (转发), kept apart.

RSSHub's Weibo routes put the post's HTML in the description: emoji as `<span class="url-icon">
<img alt="[微笑]">`, pictures as `<img>`, and a repost after it as `<blockquote> - 转发
<a href="https://weibo.com/…">@作者</a>: …</blockquote>` ("@[原微博不可访问]" when the
reposted post was deleted). Titles are the post's text cut short, or empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser as HTMLParser

TITLE_MAX_CHARS = 60
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_REPOST_LEAD = re.compile(r"^\s*-?\s*转发\s*")
_MENTION = re.compile(r"@([^\s:：@，,]{1,30})")
DELETED = "原微博不可访问"
# Titles of a board's own answers: 答复：…, 回复：…, 关于…的答复/回复/办理结果.
_REPLY_TITLE = re.compile(r"^\s*[【\[]?(?:答复|回复|办理结果)[】\]:：\s]"
                          r"|的(?:答复|回复|办理结果)\s*$")


@dataclass(frozen=True, slots=True)
class Post:
    title: str
    own_words: str
    quoted: str = ""  # what the post reposts, without the reposting account's words
    quoted_author: str | None = None  # the account reposted (None when not a repost)

    @property
    def quoted_deleted(self) -> bool:
        return self.quoted_author is not None and DELETED in self.quoted_author


def read_post(title: str, description_html: str) -> Post:
    """The post's own words and repost, pictures as their alt text, links kept."""
    tree = HTMLParser(f"<div>{description_html}</div>")
    quoted, author = "", None
    for quote in tree.css("blockquote"):
        author = author or _author(quote)
        quoted = " ".join(filter(None, (quoted, _text(quote))))
        quote.decompose()
    own = _text(tree)
    if author is not None:
        quoted = _REPOST_LEAD.sub("", quoted)
        quoted = re.sub(rf"^@?\[?{re.escape(author)}\]?\s*[:：]\s*", "", quoted)
    return Post(_title(own, quoted, title), own, quoted, author)


def is_board_reply(title: str) -> bool:
    """A message board's own answer (答复), not a netizen's message."""
    return bool(_REPLY_TITLE.search(title))


def _author(quote) -> str | None:
    for link in quote.css("a"):
        found = _MENTION.search(link.text() or "")
        if found:
            return found.group(1).strip("[]")
    found = _MENTION.search(quote.text() or "")
    return found.group(1).strip("[]") if found else None


def _text(node) -> str:
    """Plain text: pictures by their alt text ([图片] without one), a link's address after
    its words when they differ (mentions and topics are words, not links)."""
    for img in node.css("img"):
        alt = (img.attributes.get("alt") or "").strip()
        attrs = img.attributes
        hidden = attrs.get("hidden") is not None or attrs.get("width") == "0"  # RSSHub's copies
        img.replace_with("" if hidden else alt if _is_emoji(alt) else _picture(alt))
    for link in node.css("a"):
        words = (link.text() or "").strip()
        href = (link.attributes.get("href") or "").strip()
        if href.startswith(("http://", "https://")) and words and href not in words \
                and not words.startswith(("@", "#")):
            link.replace_with(f"{words}（{href}）")
    for br in node.css("br"):
        br.replace_with("\n")
    text = node.text(separator="") or ""
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _picture(alt: str) -> str:
    return f"[图片：{alt}]" if alt else "[图片]"


def _is_emoji(alt: str) -> bool:
    return alt.startswith("[") and alt.endswith("]") and len(alt) <= 8


def _title(own: str, quoted: str, given: str) -> str:
    """The first sentence of the account's own words; a bare repost is titled by what it
    reposts; a post of pictures only by them."""
    if own:
        return _first_sentence(own)
    if quoted:
        return "转发：" + _first_sentence(quoted)
    return _first_sentence(given) if given.strip() else "（无文字）"


def _first_sentence(text: str) -> str:
    first = _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip() or text.strip()
    return first if len(first) <= TITLE_MAX_CHARS else first[:TITLE_MAX_CHARS - 1] + "…"
