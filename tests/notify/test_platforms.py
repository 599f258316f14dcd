"""Each platform's answers mapped to delivered / retry later / permanent, and signatures
checked by fake robots that reject a wrong one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime

import aiohttp
import pytest

from monitor.notify import platforms
from monitor.notify.config import Robot, Target
from monitor.notify.platforms import dingtalk, feishu, slack, webhook, wecom
from monitor.notify.platforms.base import NotifyReason as R
from monitor.notify.platforms.base import Outcome as O

J = json.dumps

CASES = [
    # platform, HTTP status, headers, body, outcome, reason, retry_after
    (wecom, 200, {}, J({"errcode": 0, "errmsg": "ok"}), O.DELIVERED, R.OK, None),
    (wecom, 200, {}, J({"errcode": 45009, "errmsg": "api freq out of limit"}), O.RETRY,
     R.RATE_LIMITED, 60.0),
    (wecom, 200, {}, J({"errcode": -1, "errmsg": "system busy"}), O.RETRY, R.BUSY, None),
    (wecom, 200, {}, J({"errcode": 93000, "errmsg": "invalid webhook url"}), O.PERMANENT,
     R.BAD_KEY, None),
    (wecom, 200, {}, J({"errcode": 93004, "errmsg": "x"}), O.PERMANENT, R.ROBOT_DISABLED, None),
    (wecom, 200, {}, J({"errcode": 93008, "errmsg": "x"}), O.PERMANENT, R.ROBOT_REMOVED, None),
    (wecom, 200, {}, J({"errcode": 44004, "errmsg": "empty"}), O.PERMANENT, R.BAD_PAYLOAD, None),
    (wecom, 200, {}, "<html>portal</html>", O.RETRY, R.BAD_RESPONSE, None),
    (wecom, 502, {}, "bad gateway", O.RETRY, R.HTTP_5XX, None),
    (dingtalk, 200, {}, J({"errcode": 0, "errmsg": "ok"}), O.DELIVERED, R.OK, None),
    (dingtalk, 200, {}, J({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per "
                                                        "minute"}), O.RETRY, R.RATE_LIMITED, 600.0),
    (dingtalk, 200, {}, J({"errcode": 310000, "errmsg": "keywords not in content"}),
     O.PERMANENT, R.KEYWORD_MISSING, None),
    (dingtalk, 200, {}, J({"errcode": 310000, "errmsg": "sign not match"}), O.PERMANENT,
     R.BAD_SIGNATURE, None),
    (dingtalk, 200, {}, J({"errcode": 310000, "errmsg": "机器人发送签名不匹配"}), O.PERMANENT,
     R.BAD_SIGNATURE, None),
    (dingtalk, 200, {}, J({"errcode": 310000, "errmsg": "invalid timestamp"}), O.PERMANENT,
     R.CLOCK_SKEW, None),
    (dingtalk, 200, {}, J({"errcode": 300001, "errmsg": "token is not exist"}), O.PERMANENT,
     R.BAD_KEY, None),
    (feishu, 200, {}, J({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {},
                         "msg": "success"}), O.DELIVERED, R.OK, None),
    (feishu, 200, {}, J({"code": 11232, "data": {}, "msg": "frequency limited psm[x]"}),
     O.RETRY, R.RATE_LIMITED, 60.0),
    (feishu, 200, {}, J({"code": 19021, "msg": "sign match fail"}), O.PERMANENT,
     R.BAD_SIGNATURE, None),
    (feishu, 200, {}, J({"code": 19022, "msg": "Ip Not Allowed"}), O.PERMANENT,
     R.IP_NOT_ALLOWED, None),
    (feishu, 200, {}, J({"code": 19024, "msg": "Key Words Not Found"}), O.PERMANENT,
     R.KEYWORD_MISSING, None),
    (feishu, 400, {}, J({"code": 9499, "msg": "Bad Request"}), O.PERMANENT, R.BAD_PAYLOAD, None),
    (feishu, 503, {}, "busy", O.RETRY, R.HTTP_5XX, None),
    (slack, 200, {}, "ok", O.DELIVERED, R.OK, None),
    (slack, 429, {"Retry-After": "7"}, "rate_limited", O.RETRY, R.RATE_LIMITED, 7.0),
    (slack, 400, {}, "invalid_payload", O.PERMANENT, R.BAD_PAYLOAD, None),
    (slack, 403, {}, "action_prohibited", O.PERMANENT, R.ROBOT_DISABLED, None),
    (slack, 404, {}, "channel_not_found", O.PERMANENT, R.ROBOT_REMOVED, None),
    (slack, 410, {}, "channel_is_archived", O.PERMANENT, R.ROBOT_REMOVED, None),
    (slack, 500, {}, "rollup_error", O.RETRY, R.HTTP_5XX, None),
    (slack, 200, {}, "not ok", O.RETRY, R.BAD_RESPONSE, None),
    (webhook, 204, {}, "", O.DELIVERED, R.OK, None),
    (webhook, 401, {}, "bad signature", O.PERMANENT, R.BAD_SIGNATURE, None),
    (webhook, 503, {"Retry-After": "30"}, "", O.RETRY, R.HTTP_5XX, 30.0),
    (webhook, 404, {}, "", O.PERMANENT, R.HTTP_4XX, None),
]


@pytest.mark.parametrize(("module", "status", "headers", "body", "outcome", "reason", "after"),
                         CASES, ids=[f"{c[0].__name__.rsplit('.', 1)[1]}-{c[1]}-{i}"
                                     for i, c in enumerate(CASES)])
def test_answers_are_classified(module, status, headers, body, outcome, reason, after):
    answer = module.classify(status, headers, body)
    assert (answer.outcome, answer.reason, answer.retry_after) == (outcome, reason, after)


def test_dingtalk_signature_matches_the_documented_recipe():
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    url = dingtalk.signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SECx", now)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    ts = int(now.timestamp() * 1000)
    mac = hmac.new(b"SECx", f"{ts}\nSECx".encode(), hashlib.sha256).digest()
    assert query["timestamp"] == [str(ts)]
    assert query["sign"] == [base64.b64encode(mac).decode()]


def test_feishu_signature_is_not_dingtalks():
    mac = hmac.new(b"1763884800\ns", b"", hashlib.sha256).digest()
    assert feishu.sign("s", 1763884800) == base64.b64encode(mac).decode()
    assert feishu.sign("s", 1763884800) != dingtalk.sign("s", 1763884800)


def _target(robots, name: str, platform: str, secret: str | None = None,
            keyword: str | None = None) -> Target:
    robot = Robot(id=name, name=name, platform=platform, url=robots.url(name), secret=secret,
                  keyword=keyword, timeout=2)
    return Target(robot, robot.url, secret)


MESSAGE = {"wecom": {"msgtype": "markdown", "markdown": {"content": "舆情 测试"}},
           "dingtalk": {"msgtype": "markdown", "markdown": {"title": "舆情", "text": "测试"}},
           "feishu": {"msg_type": "text", "content": {"text": "舆情 测试"}},
           "slack": {"text": "舆情 测试"},
           "webhook": {"text": "舆情 测试", "delivery_id": "d-1"}}


@pytest.mark.parametrize(("name", "platform", "secret"), [
    ("env", "dingtalk", "SECabc123"), ("health", "feishu", "fs-secret"),
    ("archive", "webhook", "hk"), ("office", "wecom", None), ("ops", "slack", None)])
async def test_signed_requests_are_accepted_and_wrong_secrets_refused(robots, clock, name,
                                                                        platform, secret):
    async with aiohttp.ClientSession() as session:
        good = await platforms.send(session, _target(robots, name, platform, secret),
                                    MESSAGE[platform], clock.now())
        assert good.outcome is O.DELIVERED, good
        assert len(robots.robots[name].messages) == 1
        if secret is None:
            return
        wrong = "SECwrong" if platform == "dingtalk" else "wrong"  # a DingTalk secret is SEC…
        bad = await platforms.send(session, _target(robots, name, platform, wrong),
                                   MESSAGE[platform], clock.now())
    assert bad.outcome is O.PERMANENT and bad.reason is R.BAD_SIGNATURE, bad
    assert robots.robots[name].refused == ["sign"]
    assert len(robots.robots[name].messages) == 1


async def test_keyword_security(robots, clock):
    robots.robots["env"].keyword = "值班"
    target = _target(robots, "env", "dingtalk", "SECabc123")
    async with aiohttp.ClientSession() as session:
        answer = await platforms.send(session, target, MESSAGE["dingtalk"], clock.now())
    assert (answer.outcome, answer.reason) == (O.PERMANENT, R.KEYWORD_MISSING)


async def test_network_failures_are_retryable(clock):
    robot = Robot(id="x", name="x", platform="wecom", url="http://127.0.0.1:9/send?key=k",
                  timeout=1)
    async with aiohttp.ClientSession() as session:
        answer = await platforms.send(session, Target(robot, robot.url, None),
                                      MESSAGE["wecom"], clock.now())
    assert answer.outcome is O.RETRY and answer.reason is R.CONNECT
    assert "127.0.0.1" not in answer.detail


async def test_unconfigured_target_is_not_sent(clock):
    robot = Robot(id="x", name="x", platform="wecom", url="https://q/send?key=${K}")
    answer = await platforms.send(None, Target.fill(robot, {}), MESSAGE["wecom"], clock.now())
    assert (answer.outcome, answer.reason) == (O.PERMANENT, R.NOT_CONFIGURED)
    assert "K" in answer.detail
