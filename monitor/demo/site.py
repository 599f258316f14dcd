"""A feed site on 127.0.0.1: one RSS feed per scenario source at /feeds/<id>.xml, showing
the entries published so far (the demo publishes each when the simulated clock reaches it)."""

from __future__ import annotations

from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

from monitor.demo.local import LocalServer
from monitor.demo.scenarios import Entry, Feed
from monitor.track.workdays import CHINA_TZ


class FeedSite(LocalServer):
    def __init__(self, feeds: list[Feed]) -> None:
        super().__init__()
        self._feeds = {f.id: f for f in feeds}
        self._published: dict[str, list[Entry]] = {f.id: [] for f in feeds}
        self.requests = 0

    def url(self, feed_id: str) -> str:
        return f"http://127.0.0.1:{self.port}/feeds/{feed_id}.xml"

    def publish(self, entry: Entry) -> None:
        self._published[entry.feed_id].append(entry)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feeds/{feed}.xml", self._feed)
        return app

    async def _feed(self, request: web.Request) -> web.Response:
        self.requests += 1
        feed = self._feeds.get(request.match_info["feed"])
        if feed is None:
            raise web.HTTPNotFound()
        body = rss(feed, self._published[feed.id][-50:])
        return web.Response(body=body.encode(), content_type="application/rss+xml",
                            charset="utf-8")


def rss(feed: Feed, entries: list[Entry]) -> str:
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
        f"<guid>{escape(e.link)}</guid><description>{escape(e.text)}</description>"
        f"<pubDate>{format_datetime(e.published.astimezone(CHINA_TZ))}</pubDate></item>"
        for e in reversed(entries))
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(feed.name)}</title><link>http://127.0.0.1/</link>"
            f"<description>demo</description>{items}</channel></rss>")
