"""A fake feed site on 127.0.0.1 for the collector tests and benchmarks.

Documents are registered per path with their bytes and headers; the site answers
conditional requests with 304, and a few fixed paths misbehave the way real sites do.
Every request is logged with its path and validators.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

from tests.localserver import LocalServer


@dataclass
class Document:
    body: bytes
    content_type: str = "application/rss+xml"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # send ETag / Last-Modified and honour them
    # Every answer a new ETag ("<n>", counting per path) and never 304: a poll's
    # If-None-Match then names the one earlier answer it knew of.
    numbered: bool = False

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Hit:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int
    user_agent: str = ""
    at: float = 0.0  # loop time when the request arrived


LAST_MODIFIED = format_datetime(datetime(2026, 11, 1, tzinfo=UTC), usegmt=True)


class FakeSite(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[str, Document] = {}
        self.hits: list[Hit] = []
        self.slow_seconds = 30.0
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.answered: dict[str, int] = {}  # numbered documents: answers given
        self.delayed_now = 0
        self.delayed_max = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, path: str, document: Document) -> str:
        self.documents[path] = document
        return self.url(path)

    def hits_for(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/redirect-loop/{n}", self._redirect_loop)
        app.router.add_get("/redirect/{n}", self._redirect_chain)
        app.router.add_get("/redirect-to", self._redirect_to)
        app.router.add_get("/slow-headers", self._slow_headers)
        app.router.add_get("/slow-body", self._slow_body)
        app.router.add_get("/endless", self._endless)
        app.router.add_get("/gzip/{path:.*}", self._gzip)
        app.router.add_get("/delay/{path:.*}", self._delayed)
        app.router.add_get("/{path:.*}", self._document)
        return app

    def _log(self, request: web.Request, status: int) -> None:
        self.hits.append(Hit(request.path, request.headers.get("If-None-Match"),
                             request.headers.get("If-Modified-Since"), status,
                             request.headers.get("User-Agent", ""),
                             asyncio.get_running_loop().time()))

    async def _document(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.in_flight[path] = self.in_flight.get(path, 0) + 1
        self.max_in_flight[path] = max(self.max_in_flight.get(path, 0), self.in_flight[path])
        try:
            await asyncio.sleep(0)  # let concurrent requests overlap, so overlaps are seen
            return self._answer(request, path)
        finally:
            self.in_flight[path] -= 1

    def _answer(self, request: web.Request, path: str) -> web.Response:
        doc = self.documents.get(path)
        if doc is None:
            self._log(request, 404)
            return web.Response(status=404, text="not found")
        headers = {"Content-Type": doc.content_type, **doc.headers}
        if doc.numbered:
            self.answered[path] = self.answered.get(path, 0) + 1
            headers["ETag"] = f'"{self.answered[path]}"'
        elif doc.conditional and doc.status == 200:
            headers.update({"ETag": doc.etag, "Last-Modified": LAST_MODIFIED})
            if request.headers.get("If-None-Match") == doc.etag:
                self._log(request, 304)
                return web.Response(status=304, headers=headers)
        self._log(request, doc.status)
        return web.Response(status=doc.status, body=doc.body, headers=headers)

    async def _redirect_loop(self, request: web.Request) -> web.Response:
        self._log(request, 302)
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/redirect-loop/{(n + 1) % 2}")

    async def _redirect_chain(self, request: web.Request) -> web.Response:
        self._log(request, 302)
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/redirect/{n - 1}" if n > 1 else "/feeds/redirected.xml")

    async def _redirect_to(self, request: web.Request) -> web.Response:
        """A redirect to any address (`?to=`), as a hostile or hijacked site would send."""
        self._log(request, 302)
        raise web.HTTPFound(request.query["to"])

    async def _slow_headers(self, request: web.Request) -> web.Response:
        self._log(request, 200)
        await asyncio.sleep(self.slow_seconds)
        return web.Response(text="late")

    async def _slow_body(self, request: web.Request) -> web.StreamResponse:
        """Headers at once, then a trickle that never finishes in time."""
        self._log(request, 200)
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        await response.write(b"<?xml version='1.0'?><rss><channel>")
        await asyncio.sleep(self.slow_seconds)
        return response

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        """A body that never ends: 16 KB every millisecond, until the client hangs up."""
        self._log(request, 200)
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<item><title>x</title></item>" * 550
        with contextlib.suppress(ConnectionError):
            while True:
                await response.write(chunk)
                await asyncio.sleep(0.001)
        return response

    async def _delayed(self, request: web.Request) -> web.Response:
        """The document at /path, after 0.2 s; counts how many such requests overlap."""
        self.delayed_now += 1
        self.delayed_max = max(self.delayed_max, self.delayed_now)
        try:
            await asyncio.sleep(0.2)
            return self._answer(request, "/" + request.match_info["path"])
        finally:
            self.delayed_now -= 1

    async def _gzip(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        doc = self.documents[path]
        self._log(request, 200)
        response = web.Response(body=doc.body, headers={"Content-Type": doc.content_type})
        response.enable_compression(web.ContentCoding.gzip)
        return response


def rss(title: str, items: list[tuple[str, str, str]], encoding: str = "utf-8",
        declared: str | None = "same") -> bytes:
    """RSS 2.0 with (title, link, pubDate) items; `declared` is the prolog's claim."""
    claim = encoding if declared == "same" else declared
    prolog = f'<?xml version="1.0" encoding="{claim}"?>' if claim else '<?xml version="1.0"?>'
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid><pubDate>{date}</pubDate>"
        f"<description>&lt;p&gt;{escape(t)} 的详细内容&lt;/p&gt;</description></item>"
        for t, link, date in items
    )
    doc = (f"{prolog}<rss version=\"2.0\"><channel><title>{escape(title)}</title>"
           f"<link>http://example.gov.cn/</link><description>d</description>{entries}"
           f"</channel></rss>")
    return doc.encode(encoding)


def atom(title: str, items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(
        f"<entry><title>{escape(t)}</title><link href=\"{escape(link)}\"/>"
        f"<id>tag:example.gov.cn,2026:{i}</id><updated>{date}</updated>"
        f"<summary type=\"html\">&lt;b&gt;{escape(t)}&lt;/b&gt;</summary></entry>"
        for i, (t, link, date) in enumerate(items)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>tag:example.gov.cn,2026:feed</id>"
            f"<updated>2026-11-01T00:00:00Z</updated>{entries}</feed>").encode()


def rdf(title: str, items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(
        f'<item rdf:about="{escape(link)}"><title>{escape(t)}</title><link>{escape(link)}</link>'
        f"<dc:date>{date}</dc:date></item>"
        for t, link, date in items
    )
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<channel rdf:about="http://example.gov.cn/"><title>{escape(title)}</title>'
            f"<link>http://example.gov.cn/</link><description>d</description></channel>"
            f"{entries}</rdf:RDF>").encode()


def list_page(items: list[tuple[str, str, str]], encoding: str = "utf-8",
              meta: str | None = "same") -> bytes:
    """An HTML list page: <ul class="list"><li><a href>title</a><span>date</span></li>."""
    claim = encoding if meta == "same" else meta
    meta_tag = f'<meta charset="{claim}">' if claim else ""
    rows = "".join(f'<li><a href="{escape(link)}">{escape(t)}</a><span>{d}</span></li>'
                   for t, link, d in items)
    return (f"<!DOCTYPE html><html><head>{meta_tag}<title>列表</title></head><body>"
            f'<div class="nav"><a href="/">首页</a></div><ul class="list">{rows}</ul>'
            f"</body></html>").encode(encoding)
