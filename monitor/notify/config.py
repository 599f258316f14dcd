"""notify.yaml: robots, routes, quiet rules, delivery and the daily summary (strict).

Secrets never sit in the file: a robot's `url` and `secret` may reference `${ENV_NAME}`,
looked up in the environment first, then in the secrets file named by MONITOR_SECRETS_FILE
(YAML `NAME: value` or dotenv `NAME=value` lines). A robot whose references cannot be filled
is *not configured*: the service still starts, says so once, and routes around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.config import Duration, environment
from monitor.domain.alerts import AlertKind
from monitor.errors import ConfigError
from monitor.urlcheck import http_address, listen_url
from monitor.yamlconfig import Lines, Refused, duplicate_ids, load_yaml_model, safe_load

DEFAULT_FILE = Path("notify.yaml")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
SEVERITIES = ("一般", "较大", "重大", "特别重大")  # Ⅳ → Ⅰ, ascending
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NOT_SEC = "{} does not start with SEC; a DingTalk 加签 secret does (robot settings → 加签)"


class Platform(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    SLACK = "slack"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class RateRule:
    """The platform's own limits: (window seconds, messages) pairs, all enforced."""

    windows: tuple[tuple[float, int], ...]
    throttle_penalty: float = 0.0  # how long the platform blocks a robot that went over


PLATFORM_LIMITS: dict[Platform, RateRule] = {
    Platform.WECOM: RateRule(((60.0, 20),)),
    Platform.DINGTALK: RateRule(((60.0, 20),), throttle_penalty=600.0),
    Platform.FEISHU: RateRule(((60.0, 100), (1.0, 5))),
    Platform.SLACK: RateRule(((1.0, 1), (60.0, 60))),
    Platform.WEBHOOK: RateRule(((60.0, 600),)),
}


class Robot(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    name: Annotated[str, Field(min_length=1)]
    platform: Platform
    url: str  # full webhook address; may contain ${ENV_NAME}
    secret: str | None = None  # DingTalk 加签 / Feishu signature / webhook HMAC key
    keyword: str | None = None  # DingTalk/Feishu keyword security: every message carries it
    per_minute: int | None = Field(default=None, ge=1)  # lower than the platform limit if wanted
    timeout: Duration = 10.0
    enabled: bool = True  # false: kept in the file, sent nothing, its secrets not required

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://", "${")):
            raise ValueError("url must be an http(s) address (it may use ${ENV_NAME})")
        return url

    @field_validator("url", "secret")
    @classmethod
    def _references(cls, text: str | None) -> str | None:
        """`$NAME`, `${NAME` or `${my name}` would be sent as written: refuse them."""
        if text is not None and "$" in REFERENCE.sub("", text):
            raise ValueError("write a variable as ${NAME} (letters, digits and _, not "
                             "starting with a digit)")
        return text

    @field_validator("secret")
    @classmethod
    def _dingtalk_secret(cls, secret: str | None, info: ValidationInfo) -> str | None:
        if (secret and info.data.get("platform") is Platform.DINGTALK
                and not REFERENCE.search(secret) and not secret.startswith("SEC")):
            raise ValueError(NOT_SEC.format("the secret"))
        return secret

    @model_validator(mode="after")
    def _within_platform_limit(self) -> Robot:
        limit = dict((w, n) for w, n in PLATFORM_LIMITS[self.platform].windows).get(60.0)
        if self.per_minute and limit and self.per_minute > limit:
            raise ValueError(f"per_minute {self.per_minute} is above the {self.platform} "
                             f"limit of {limit} messages a minute")
        return self

    @property
    def rate(self) -> RateRule:
        rule = PLATFORM_LIMITS[self.platform]
        if not self.per_minute:
            return rule
        windows = tuple((w, min(n, self.per_minute) if w == 60.0 else n)
                        for w, n in rule.windows)
        return RateRule(windows, rule.throttle_penalty)


class Match(BaseModel):
    """Every given field must match; lists mean any of."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: list[str] | None = None
    region: list[str] | None = None
    kind: list[AlertKind] | None = None
    severity: list[Literal["一般", "较大", "重大", "特别重大"]] | None = None
    severity_at_least: Literal["一般", "较大", "重大", "特别重大"] | None = None


class Route(BaseModel):
    """Alertmanager-like: the first matching child wins unless it says `continue: true`;
    a node with no matching child sends to its own receivers."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = None
    match: Match = Match()
    receivers: list[str] = []
    continue_: bool = Field(default=False, alias="continue")
    routes: list[Route] = []


class Quiet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    group_wait: Duration = 0.0  # hold a first alert this long so close ones share a message
    group_interval: Duration = 60.0  # after a message about an event, merge the next ones
    repeat_interval: Duration = 4 * 3600.0  # remind of an unresolved missed deadline
    max_repeats: int = Field(default=12, ge=0)


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backoff_base: Duration = 5.0
    # the longest wait between tries of a robot that is down or silent: once it is back, its
    # backlog goes out within about this long (platform-requested waits are longer)
    backoff_cap: Duration = 20.0
    jitter: float = Field(default=0.2, ge=0, le=0.5)
    lease: Duration = 60.0  # a claimed entry whose sender died is due again after this
    batch: int = Field(default=500, ge=1, le=5000)  # entries claimed per pass
    poll_interval: Duration = 1.0  # how often the sender looks for work from other processes


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: time  # local time, Asia/Shanghai
    receivers: list[str] = []  # empty: route it like any other alert


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    robots: list[Robot] = []
    route: Route = Route()
    fallback: str | None = None  # robot that gets alerts another robot refused for good
    quiet: Quiet = Quiet()
    delivery: Delivery = Delivery()
    summary: Summary | None = None

    _targets: dict[str, Target] = PrivateAttr(default_factory=dict)
    _public_url: str = PrivateAttr(default=DEFAULT_PUBLIC_URL)

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> NotifyConfig:
        """A claimed entry must not come due again while its send may still be running."""
        slowest = max((r.timeout for r in self.robots), default=0.0)
        if self.delivery.lease < 2 * slowest:
            raise ValueError(f"delivery.lease ({self.delivery.lease:g}s) must be at least twice "
                             f"the longest robot timeout ({slowest:g}s)")
        return self

    @property
    def targets(self) -> dict[str, Target]:
        """Robot id → the robot with its secrets filled in (or the names that were missing)."""
        return self._targets

    @property
    def public_url(self) -> str:
        return self._public_url

    def robot(self, robot_id: str) -> Robot:
        for robot in self.robots:
            if robot.id == robot_id:
                return robot
        known = ", ".join(r.id for r in self.robots) or "none"
        raise ConfigError([f"no robot with id {robot_id!r}; known robots: {known}"])

    def resolve(self, env: dict[str, str], public_url: str = DEFAULT_PUBLIC_URL) -> NotifyConfig:
        self._targets = {r.id: Target.fill(r, env) for r in self.robots}
        self._public_url = public_url.rstrip("/")
        return self


@dataclass(frozen=True)
class Target:
    robot: Robot
    url: str  # secrets filled in; never log it
    secret: str | None
    missing: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return self.robot.enabled and not self.missing

    @classmethod
    def fill(cls, robot: Robot, env: dict[str, str]) -> Target:
        missing: list[str] = []

        def sub(text: str | None) -> str | None:
            if text is None:
                return None

            def one(match: re.Match) -> str:
                value = env.get(match.group(1), "")
                if not value:
                    missing.append(match.group(1))
                return value

            return REFERENCE.sub(one, text)

        return cls(robot, sub(robot.url) or "", sub(robot.secret), tuple(dict.fromkeys(missing)))

    def __repr__(self) -> str:  # keep secrets out of tracebacks and logs
        return f"Target({self.robot.id}, {self.robot.platform}, configured={self.configured})"


def load_notify_config(path: Path | None = None, env: dict[str, str] | None = None,
                       public_url: str | None = None) -> NotifyConfig:
    """Read notify.yaml (or $MONITOR_NOTIFY), check it, and fill secrets from the environment
    and $MONITOR_SECRETS_FILE. Raises ConfigError with file:line: field messages."""
    env = dict(environment() if env is None else env)
    path = notify_path(path, env)
    config = load_yaml_model(path, NotifyConfig,
                             checks=(duplicate_ids("robots"), _known_receivers))
    secrets = read_secrets_file(Path(env["MONITOR_SECRETS_FILE"])) \
        if env.get("MONITOR_SECRETS_FILE") else {}
    merged = {**secrets, **{k: v for k, v in env.items() if v}}
    # The composition root passes Settings.public_url; alone (CLI), the same default.
    public_url = public_url or env.get("MONITOR_PUBLIC_URL") or default_public_url(env)
    try:
        http_address(public_url)
    except ValueError as exc:
        raise ConfigError([f"environment MONITOR_PUBLIC_URL: {exc}"]) from None
    return config.resolve(merged, public_url)


def default_public_url(env: dict[str, str]) -> str:
    """As Settings: the listen address and port when MONITOR_PUBLIC_URL is unset."""
    port = env.get("MONITOR_HTTP_PORT", "8080")
    return listen_url(env.get("MONITOR_HTTP_HOST", "127.0.0.1"),
                      int(port) if port.isdigit() else 8080)


def notify_path(path: Path | None, env: dict[str, str]) -> Path:
    return Path(path or env.get("MONITOR_NOTIFY") or DEFAULT_FILE)


def read_secrets_file(path: Path) -> dict[str, str]:
    """YAML mapping (`NAME: value`) or dotenv lines (`NAME=value`, `#` comments)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the secrets file (MONITOR_SECRETS_FILE): "
                           f"{exc.strerror}"]) from exc
    try:
        data = safe_load(text)
    except Refused as exc:
        raise ConfigError([f"{path}:{exc.problem_mark.line + 1}: {exc.problem}"]) from exc
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items() if v is not None}
    pairs = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep:
            raise ConfigError([f"{path}:{number}: expected NAME=value"])
        pairs[name.strip()] = value.strip().strip("'\"")
    return pairs


def _known_receivers(path: Path, data: dict, lines: Lines) -> list[str]:
    """Every receiver, the fallback and the summary receivers name a robot in `robots`."""
    robots = data.get("robots") if isinstance(data.get("robots"), list) else []
    known = {r.get("id") for r in robots if isinstance(r, dict)}
    problems: list[str] = []

    def check(name: object, loc: tuple, label: str) -> None:
        if isinstance(name, str) and name not in known:
            allowed = ", ".join(sorted(k for k in known if isinstance(k, str))) or "none"
            problems.append(f"{path}:{lines.get(loc, 1)}: {label}: unknown robot {name!r} "
                            f"(robots: {allowed})")

    def walk(node: object, loc: tuple, label: str) -> None:
        if not isinstance(node, dict):
            return
        receivers = node.get("receivers")
        for i, name in enumerate(receivers if isinstance(receivers, list) else []):
            check(name, (*loc, "receivers", i), f"{label}.receivers[{i}]")
        children = node.get("routes")
        for i, child in enumerate(children if isinstance(children, list) else []):
            walk(child, (*loc, "routes", i), f"{label}.routes[{i}]")

    walk(data.get("route"), ("route",), "route")
    check(data.get("fallback"), ("fallback",), "fallback")
    summary = data.get("summary")
    if isinstance(summary, dict) and isinstance(summary.get("receivers"), list):
        for i, name in enumerate(summary["receivers"]):
            check(name, ("summary", "receivers", i), f"summary.receivers[{i}]")
    return problems
