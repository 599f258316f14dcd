"""No server-side request forgery: a source reaches only public addresses unless it sets
allow_private. Literal IPs, redirects and DNS answers are all checked at connect time."""

from __future__ import annotations

import contextlib
import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver

from monitor.app import open_collector
from monitor.collect.fetcher import Fetcher
from monitor.errors import FetchError, FetchReason
from monitor.metrics import Metrics
from monitor.models import FetchJob
from tests.fakesite import Document, rss
from tests.helpers import feeds

NEWS = [("昆明市召开新闻发布会通报暴雨灾情", "http://example.gov.cn/a/1.html",
         "Mon, 23 Nov 2026 09:00:00 +0800")]
# The fake site listens on 127.0.0.1; where a test needs a "public" first hop, the fetcher
# is told to count that one address as public.
SITE_AS_PUBLIC = [ipaddress.ip_network("127.0.0.1/32")]


class StaticResolver(AbstractResolver):
    """DNS as a hostile or re-bound zone would answer it: fixed addresses per name."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = 0):
        self.asked.append(host)
        return [{"hostname": host, "host": ip, "port": port,
                 "family": socket.AF_INET6 if ":" in ip else socket.AF_INET,
                 "proto": 0, "flags": 0} for ip in self.answers[host]]

    async def close(self) -> None:
        pass


@contextlib.asynccontextmanager
async def fetcher(settings, clock, **kwargs):
    async with Fetcher(settings, clock.now, **kwargs) as f:
        yield f


async def refusal(f: Fetcher, url: str, source_id: str = "hostile") -> FetchError:
    with pytest.raises(FetchError) as caught:
        await f.fetch(FetchJob(source_id, url))
    return caught.value


@pytest.mark.parametrize(("host", "address", "range_name"), [
    pytest.param("127.0.0.1", "127.0.0.1", "loopback", id="loopback-v4"),
    pytest.param("[::1]", "::1", "loopback", id="loopback-v6"),
    pytest.param("0.0.0.0", "0.0.0.0", "unspecified", id="unspecified-v4"),  # Linux connects this to the local host
    pytest.param("[::]", "::", "unspecified", id="unspecified-v6"),
    pytest.param("[::ffff:127.0.0.1]", "::ffff:7f00:1 (= 127.0.0.1)", "loopback", id="loopback-v4-mapped"),
    pytest.param("169.254.169.254", "169.254.169.254", "link-local", id="link-local-v4"),  # cloud metadata service
    pytest.param("[fe80::1]", "fe80::1", "link-local", id="link-local-v6"),
    pytest.param("10.0.0.1", "10.0.0.1", "private", id="private-10"),
    pytest.param("172.16.5.4", "172.16.5.4", "private", id="private-172"),
    pytest.param("192.168.1.1", "192.168.1.1", "private", id="private-192"),
    pytest.param("[fd00::1]", "fd00::1", "private", id="private-v6-ula"),
    pytest.param("[::ffff:10.1.2.3]", "::ffff:a01:203 (= 10.1.2.3)", "private", id="private-v4-mapped"),
    pytest.param("224.0.0.1", "224.0.0.1", "multicast", id="multicast-v4"),
    pytest.param("[ff02::1]", "ff02::1", "multicast", id="multicast-v6"),
    pytest.param("240.0.0.1", "240.0.0.1", "reserved", id="reserved-v4"),
    pytest.param("100.64.0.1", "100.64.0.1", "non-public", id="shared-cgnat"),
])
async def test_each_non_public_range_is_refused_without_connecting(
        host, address, range_name, site, settings, redis, clock, rng):
    site.put("/feed.xml", Document(rss("t", NEWS)))
    url = f"http://{host}:{site.port}/feed.xml"  # the loopback forms would reach the site
    async with open_collector(settings, feeds({"id": "hostile", "url": url,
                                               "allow_private": False}),
                              redis, clock, Metrics(), rng) as c:
        clock.advance(61)
        [outcome] = await c.scheduler.run_once()
    assert outcome.error.reason is FetchReason.REFUSED_ADDRESS
    assert outcome.state.last_error_reason == "refused_address"
    message = outcome.state.last_error
    assert message.startswith(f"source hostile: refused to connect to {address}, "
                              f"a {range_name} address")
    assert "allow_private: true" in message
    assert site.hits == [] and outcome.new_items == []


async def test_allow_private_lets_an_intranet_source_through(site, settings, redis, clock, rng):
    url = site.put("/feed.xml", Document(rss("t", NEWS)))
    async with open_collector(settings, feeds({"id": "intranet", "url": url,
                                               "allow_private": True}),
                              redis, clock, Metrics(), rng) as c:
        clock.advance(61)
        [outcome] = await c.scheduler.run_once()
    assert outcome.outcome == "ok" and len(outcome.new_items) == 1


async def test_a_name_resolving_to_a_private_address_is_refused_at_connect(site, settings,
                                                                           clock):
    """DNS rebinding: whatever a name resolved to before, the address connected to now is
    what is checked. The same name and answer work for a source that allows it."""
    url = site.put("/feed.xml", Document(rss("t", NEWS)))
    named = url.replace("127.0.0.1", "news.example.gov.cn")
    resolver = StaticResolver({"news.example.gov.cn": ["127.0.0.1"]})
    async with fetcher(settings, clock, resolver=resolver) as f:
        error = await refusal(f, named)
        allowed = await f.fetch(FetchJob("intranet", named, allow_private=True))
    assert error.reason is FetchReason.REFUSED_ADDRESS and not error.retryable
    assert str(error).startswith("source hostile: refused to connect to news.example.gov.cn "
                                 "resolves to 127.0.0.1, a loopback address")
    assert allowed.status == 200 and len(site.hits) == 1  # only the allowed source got there
    assert resolver.asked.count("news.example.gov.cn") >= 1


async def test_an_answer_mixing_public_and_private_addresses_connects_only_to_public(
        site, settings, clock):
    url = site.put("/feed.xml", Document(rss("t", NEWS)))
    named = url.replace("127.0.0.1", "mixed.example.gov.cn")
    resolver = StaticResolver({"mixed.example.gov.cn": ["10.9.8.7", "127.0.0.1"]})
    async with fetcher(settings, clock, resolver=resolver, exempt_networks=SITE_AS_PUBLIC) as f:
        result = await f.fetch(FetchJob("s", named))
    assert result.status == 200  # 10.9.8.7 was dropped from the answer, never tried


@pytest.mark.parametrize(("target", "words"), [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
    ("http://intranet.example:{port}/feed.xml",
     "intranet.example resolves to 192.168.10.5, a private address"),
    ("http://[::ffff:192.168.0.1]:{port}/feed.xml",
     "::ffff:c0a8:1 (= 192.168.0.1), a private address"),
], ids=["metadata-ip", "private-name", "mapped-ipv6"])
async def test_a_redirect_to_a_private_address_is_refused(target, words, site, settings, clock):
    resolver = StaticResolver({"intranet.example": ["192.168.10.5"]})
    location = target.format(port=site.port)
    start = site.url(f"/redirect-to?to={location}")
    async with fetcher(settings, clock, resolver=resolver, exempt_networks=SITE_AS_PUBLIC) as f:
        error = await refusal(f, start, "gov-news")
    assert error.reason is FetchReason.REFUSED_ADDRESS
    assert str(error).startswith(f"source gov-news: refused to connect to {words}")
    assert [h.path for h in site.hits] == ["/redirect-to"]


async def test_the_same_redirect_is_followed_for_a_source_that_allows_it(site, settings, clock):
    site.put("/feed.xml", Document(rss("t", NEWS)))
    resolver = StaticResolver({"intranet.example": ["127.0.0.1"]})
    start = site.url(f"/redirect-to?to=http://intranet.example:{site.port}/feed.xml")
    async with fetcher(settings, clock, resolver=resolver) as f:
        result = await f.fetch(FetchJob("intranet", start, allow_private=True))
        error = await refusal(f, start, "public-only")
    assert result.status == 200 and result.url.endswith("/feed.xml")
    assert "refused to connect to 127.0.0.1, a loopback address" in str(error)
