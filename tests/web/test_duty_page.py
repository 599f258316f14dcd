"""The duty page (/): what an officer sees first."""


async def test_the_duty_page_lists_official_items_waiting_for_their_event(desk, http, pipeline):
    """A county's 通报 out before any news of its matter waits (not dropped): the officer sees
    it on the duty page, not only in the API."""
    from tests.track.test_orphans import NOTICE

    async with http.get(desk.url("/"), headers=desk.auth("officer")) as page:
        assert "待对应事件的官方信息" not in await page.text()
    await pipeline.feed(desk.worker, NOTICE)
    async with http.get(desk.url("/"), headers=desk.auth("officer")) as page:
        text = await page.text()
    assert "待对应事件的官方信息（1）" in text and NOTICE.title in text
