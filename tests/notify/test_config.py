"""notify.yaml: the shipped example, secrets, and one bad file per failure mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.notify.audit import check_notify_config
from monitor.notify.config import load_notify_config, read_secrets_file

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "testdata"


def test_shipped_example_loads_without_secrets():
    config = load_notify_config(ROOT / "notify.yaml", env={})
    assert [r.id for r in config.robots] == ["office", "environment", "health"]
    assert not any(t.configured for t in config.targets.values())
    assert config.targets["environment"].missing == ("DINGTALK_ENV_TOKEN", "DINGTALK_ENV_SECRET")
    assert config.public_url == "http://127.0.0.1:8080"
    assert config.summary and config.summary.at.hour == 17


def test_secrets_from_environment_and_file(tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# robots\nDINGTALK_ENV_TOKEN=tok\nexport DINGTALK_ENV_SECRET='SECxyz'\n"
                       "WECOM_OFFICE_KEY=from-file\n")
    env = {"MONITOR_SECRETS_FILE": str(secrets), "WECOM_OFFICE_KEY": "from-env",
           "MONITOR_PUBLIC_URL": "https://yq.gov.cn/"}
    config = load_notify_config(ROOT / "notify.yaml", env=env)
    office, environment = config.targets["office"], config.targets["environment"]
    assert office.url.endswith("key=from-env")  # the environment wins over the file
    assert environment.configured and environment.secret == "SECxyz"
    assert environment.url.endswith("access_token=tok")
    assert not config.targets["health"].configured
    assert config.public_url == "https://yq.gov.cn"
    assert "SECxyz" not in repr(environment) and "tok" not in repr(environment)


def test_secrets_file_as_yaml(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text("FEISHU_HEALTH_TOKEN: abc\nFEISHU_HEALTH_SECRET: s3\n")
    assert read_secrets_file(path) == {"FEISHU_HEALTH_TOKEN": "abc", "FEISHU_HEALTH_SECRET": "s3"}


def test_missing_secrets_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="MONITOR_SECRETS_FILE"):
        load_notify_config(ROOT / "notify.yaml",
                           env={"MONITOR_SECRETS_FILE": str(tmp_path / "nope")})


def test_path_from_environment(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text("robots: []\n")
    assert load_notify_config(env={"MONITOR_NOTIFY": str(path)}).robots == []


@pytest.mark.parametrize(("name", "expected"), [
    ("unknown_key", ["notify.bad_unknown_key.yaml:7: robots[0] (id=office).colour: unknown key "
                     "(allowed: id, name, platform, url, secret, keyword, per_minute, timeout, "
                     "enabled)"]),
    ("receiver", ["notify.bad_receiver.yaml:11: route.routes[0].receivers[0]: unknown robot "
                  "'environment' (robots: office)",
                  "notify.bad_receiver.yaml:12: fallback: unknown robot 'spare' "
                  "(robots: office)"]),
    ("rate", ["notify.bad_rate.yaml:3: robots[0] (id=env): per_minute 30 is above the dingtalk "
              "limit of 20 messages a minute"]),
    ("duplicate", ["notify.bad_duplicate.yaml:3: robots[1] (id=a).id: duplicate id, first used "
                   "on line 2"]),
], ids=str)
def test_bad_files_say_where(name, expected):
    with pytest.raises(ConfigError) as caught:
        load_notify_config(DATA / f"notify.bad_{name}.yaml", env={})
    problems = [p.replace(str(DATA) + "/", "") for p in caught.value.problems]
    assert problems == expected


def test_every_bad_value_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        load_notify_config(DATA / "notify.bad_values.yaml", env={})
    text = "\n".join(caught.value.problems)
    for where in (":3: robots[0] (id=Office!).id", ":5: robots[0] (id=Office!).platform",
                  ":6: robots[0] (id=Office!).url", ":8: quiet.repeat_interval",
                  ":11: route.routes[0].match.severity_at_least"):
        assert where in text
    assert "'often' is not a duration" in text


@pytest.mark.redis
async def test_unconfigured_robots_are_announced_once(redis, keys, clock, capsys):
    from monitor.logs import configure
    from monitor.notify.notifier import Notifier

    configure("console", "info")
    config = load_notify_config(ROOT / "notify.yaml", env={"WECOM_OFFICE_KEY": "k"})
    notifier = Notifier(redis, keys, config, clock)
    await notifier.aclose()
    err = capsys.readouterr().err
    assert err.count("notify_robots_not_configured") == 1
    assert "DINGTALK_ENV_SECRET" in err and "FEISHU_HEALTH_TOKEN" in err
    assert "office" not in err.split("robots=")[1].split("]")[0]
    assert "go to the fallback robot 'office'" in err


def test_lease_must_outlive_a_send(tmp_path):
    path = tmp_path / "notify.yaml"
    path.write_text("robots:\n  - {id: a, name: A, platform: slack, url: 'https://h/x', "
                    "timeout: 40s}\ndelivery:\n  lease: 60s\n")
    with pytest.raises(ConfigError, match=r"delivery.lease \(60s\) must be at least twice the "
                                          r"longest robot timeout \(40s\)"):
        load_notify_config(path, env={})


@pytest.mark.parametrize(("name", "expected"), [
    ("reference", ["notify.bad_reference.yaml:6: robots[0] (id=office).url: write a variable as "
                   "${NAME} (letters, digits and _, not starting with a digit)",
                   "notify.bad_reference.yaml:11: robots[1] (id=env).secret: write a variable "
                   "as ${NAME} (letters, digits and _, not starting with a digit)"]),
    ("dingtalk_secret", ["notify.bad_dingtalk_secret.yaml:7: robots[0] (id=env).secret: the "
                         "secret does not start with SEC; a DingTalk 加签 secret does (robot "
                         "settings → 加签)"]),
], ids=str)
def test_bad_secret_syntax_stops_the_load(name, expected):
    with pytest.raises(ConfigError) as caught:
        load_notify_config(DATA / f"notify.bad_{name}.yaml", env={})
    assert [p.replace(str(DATA) + "/", "") for p in caught.value.problems] == expected


UNSET = ("notify.check_unset_secret.yaml:13: robots[1] (id=env).secret: ${DINGTALK_ENV_SECRET} "
         "is not set in the environment or MONITOR_SECRETS_FILE; set it, or write "
         "`enabled: false` for this robot")
ENV_VALUES = ["notify.check_env_values.yaml:8: robots[0] (id=ops).url: as filled in, "
              "${SLACK_OPS_WEBHOOK} is not an http(s) address (scheme 'ftp')",
              "notify.check_env_values.yaml:13: robots[1] (id=env).secret: "
              "${DINGTALK_ENV_SECRET} does not start with SEC; a DingTalk 加签 secret does "
              "(robot settings → 加签)"]


@pytest.mark.parametrize(("name", "env", "expected"), [
    ("unset_secret", {"K": "k", "T": "t"}, [UNSET]),  # health is disabled: its gaps are fine
    ("env_values", {"SLACK_OPS_WEBHOOK": "ftp://files.example/x", "T": "t",
                    "DINGTALK_ENV_SECRET": "4f1c2e9a7b"}, ENV_VALUES),
], ids=str)
def test_check_config_audits_the_secrets(name, env, expected):
    with pytest.raises(ConfigError) as caught:
        check_notify_config(DATA / f"notify.check_{name}.yaml", env=env)
    problems = [p.replace(str(DATA) + "/", "") for p in caught.value.problems]
    assert problems == expected
    assert "4f1c2e9a7b" not in str(problems)  # the values themselves are never shown


MOVE = "move it into a variable in the environment or MONITOR_SECRETS_FILE and write ${NAME} here"


@pytest.mark.parametrize(("name", "env", "expected"), [
    ("literal_secret", {}, [
        "notify.check_literal_secret.yaml:7: robots[0] (id=office).url: a wecom address carries "
        f"the robot's key and is written in the file; {MOVE}",
        "notify.check_literal_secret.yaml:12: robots[1] (id=archive).secret: the secret is "
        f"written in the file; {MOVE}"]),
    ("no_robots", {}, ["notify.check_no_robots.yaml: no robot is configured yet, so alerts will "
                       "wait in the outbox until one is (add a robot under robots:, or enable "
                       "one)"]),
], ids=str)
def test_check_config_warns(name, env, expected):
    _, warnings = check_notify_config(DATA / f"notify.check_{name}.yaml", env=env)
    assert [w.replace(str(DATA) + "/", "") for w in warnings] == expected


def test_a_fresh_install_is_told_alerts_wait_in_the_outbox():
    """No secret set at all: not an error per robot, one warning naming what to set."""
    _, warnings = check_notify_config(ROOT / "notify.yaml", env={})
    assert warnings == [
        f"{ROOT / 'notify.yaml'}: no robot is configured yet, so alerts will wait in the outbox "
        "until one is (set DINGTALK_ENV_SECRET, DINGTALK_ENV_TOKEN, FEISHU_HEALTH_SECRET, "
        "FEISHU_HEALTH_TOKEN, WECOM_OFFICE_KEY in the environment or MONITOR_SECRETS_FILE)"]


def test_a_disabled_robot_is_not_sent_to():
    config = load_notify_config(DATA / "notify.check_unset_secret.yaml",
                                env={"K": "k", "T": "t", "FEISHU_TOKEN": "f"})
    assert not config.targets["health"].configured


def test_public_url_must_be_http():
    with pytest.raises(ConfigError) as caught:
        load_notify_config(ROOT / "notify.yaml", env={"MONITOR_PUBLIC_URL": "javascript:x()"})
    assert caught.value.problems == [
        "environment MONITOR_PUBLIC_URL: 'javascript:x()' is not an http(s) address"]


def test_an_alias_bomb_in_the_secrets_file_is_refused(tmp_path):
    bomb = Path(__file__).parents[1] / "testdata" / "config.bad_alias_bomb.yaml"
    with pytest.raises(ConfigError) as caught:
        read_secrets_file(bomb)
    assert caught.value.problems == [f"{bomb}:2: YAML aliases (*a) are not allowed in "
                                     "configuration files; write the value out"]
