"""The duty page in headless Chromium (Debian's chromium and chromium-driver; .ci/run
installs them): sign in, open the event from the link an alert carried, watch the countdown
move under the test clock, acknowledge, record a response and see the deadline turn met.
Screenshots go to var/screenshots/.

Selenium is synchronous and the app runs on this test's event loop, so every browser step
runs in a thread (asyncio.to_thread) while the loop keeps serving."""

from __future__ import annotations

import asyncio
import os
import random
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from monitor.app import build_desk
from monitor.metrics import Metrics
from monitor.notify.config import NotifyConfig
from monitor.notify.forward import AlertForwarder
from monitor.notify.metrics import NotifyMetrics
from monitor.notify.notifier import Notifier
from monitor.officers import Officers, load_officers
from monitor.track.readmodel import ReadModel
from monitor.web.app import build_app
from tests.notify.conftest import SECRETS, base_config, drain, robots  # noqa: F401
from tests.track.conftest import MESSAGE_AND_MAJOR_ACCIDENT, pipeline  # noqa: F401
from tests.web.conftest import write_officers

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not (CHROMIUM.exists() and DRIVER.exists()),
                       reason="Debian's chromium and chromium-driver are not installed "
                              "(apt-get install -y chromium chromium-driver; .ci/run does)"),
]


def _browser():
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must fetch nothing
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.implicitly_wait(5)  # elements of a page still loading
    return driver


@pytest.fixture
async def browser():
    driver = await asyncio.to_thread(_browser)
    yield driver
    await asyncio.to_thread(driver.quit)


async def test_an_officer_answers_an_alert_from_the_page(pipeline, robots, settings,  # noqa: F811, E501
                                                         tmp_path, unused_tcp_port, browser):
    from selenium.webdriver.common.by import By

    base = f"http://127.0.0.1:{unused_tcp_port}"
    tokens = write_officers(tmp_path / "officers.yaml")
    config = NotifyConfig.model_validate(base_config(robots)).resolve(SECRETS, base)
    async with Notifier(pipeline.redis, pipeline.keys, config, pipeline.clock,
                        NotifyMetrics(CollectorRegistry()), rng=random.Random(3)) as notifier:
        worker = await pipeline.worker()
        await pipeline.feed(worker, *MESSAGE_AND_MAJOR_ACCIDENT)
        forwarder = AlertForwarder(pipeline.redis, pipeline.keys, worker.store, notifier,
                                   pipeline.clock, "w1")
        await forwarder.start()
        await forwarder.run_once()
        await drain(notifier, pipeline.clock)
        texts = [t for name in robots.robots for t in robots.texts(name)]
        links = {m for t in texts for m in re.findall(re.escape(base) + r"/events/[\w-]+", t)}
        mine = next(e for e in await worker.store.load_many(
            [u.rsplit("/", 1)[1] for u in links]) if e.severity == "重大")
        link = f"{base}/events/{mine.id}"
        assert link in links  # the alert carried the page's address

        read = ReadModel(worker.store)
        desk = build_desk(settings, pipeline.redis,
                          Officers(load_officers(tmp_path / "officers.yaml")), worker,
                          notifier, read, pipeline.clock)
        server = TestServer(build_app(pipeline.redis, Metrics(), read, notifier,
                                      pipeline.clock, desk),
                            host="127.0.0.1", port=unused_tcp_port)
        await server.start_server()
        try:
            await _walk(browser, By, base, link, tokens["officer"], pipeline, worker, mine.id)
        finally:
            await server.close()


async def _walk(driver, By, base, link, token, pipeline, worker, event_id):  # noqa: N803, F811
    def run(fn, *args):
        return asyncio.to_thread(fn, *args)

    def text(css):
        return driver.find_element(By.CSS_SELECTOR, css).text

    def submit(css):
        """Click and wait until the next page (the answer's redirect) has loaded: the
        marker set on this page is gone there. Errors while the page swaps are retried."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.wait import WebDriverWait

        driver.execute_script("window.__leaving = true")
        driver.find_element(By.CSS_SELECTOR, css).click()
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script(
                "return !window.__leaving && document.readyState === 'complete'"))

    def five_hours_row():
        return driver.find_element(By.CSS_SELECTOR, 'tr[data-rule="authoritative_info_5h"]')

    SHOTS.mkdir(parents=True, exist_ok=True)
    await run(driver.get, f"{base}/login?next=/")
    await run(lambda: driver.find_element(By.ID, "token").send_keys(token))
    await run(submit, "form button")
    assert "值班员张三" in await run(text, "header.top")
    rows = await run(lambda: driver.find_elements(By.CSS_SELECTOR, "#open-events tbody tr"))
    assert rows[0].get_attribute("data-event") == event_id  # the most urgent first
    await run(driver.save_screenshot, str(SHOTS / "duty-list.png"))

    await run(driver.get, link)
    assert await run(text, "#event-title") == (await worker.store.load(event_id)).title
    before = await run(lambda: five_hours_row().find_element(By.CSS_SELECTOR,
                                                            ".countdown").text)
    assert before.startswith("剩余 4小时") or before.startswith("剩余 5小时"), before
    pipeline.clock.advance(2 * 3600)  # the server's clock moves two hours on
    await run(driver.refresh)
    after = await run(lambda: five_hours_row().find_element(By.CSS_SELECTOR,
                                                           ".countdown").text)
    assert after.startswith("剩余 2小时") or after.startswith("剩余 3小时"), after
    assert "soon" not in before and after != before

    await run(lambda: driver.find_element(By.CSS_SELECTOR,
                                          "#form-acknowledge input[name=note]")
              .send_keys("已转应急厅核实"))
    await run(submit, "#form-acknowledge button")
    assert await run(text, "#status") == "已认领"
    assert "已保存" in await run(text, "#done")

    await run(lambda: driver.find_element(By.CSS_SELECTOR, "#form-record input[name=text]")
              .send_keys("镇雄县人民政府通报透水事故救援进展"))
    await run(lambda: driver.find_element(By.CSS_SELECTOR, "#form-record input[name=link]")
              .send_keys("https://www.zx.gov.cn/tb/1.html"))
    await run(submit, "#form-record button")
    state = await run(lambda: five_hours_row().find_element(By.CSS_SELECTOR, ".state").text)
    assert state.startswith("已按时回应"), state
    assert "镇雄县人民政府通报" in await run(text, "#responses")
    await run(driver.save_screenshot, str(SHOTS / "event-page.png"))
    await run(driver.get, f"{base}/?wall=1")
    assert "wall" in await run(lambda: driver.find_element(By.TAG_NAME, "body")
                               .get_attribute("class"))
    await run(driver.save_screenshot, str(SHOTS / "wall.png"))

    event = await worker.store.load(event_id)
    assert [h.what for h in event.history if h.who == "值班员张三"] == [
        "acknowledged", "response_recorded"]
