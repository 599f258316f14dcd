"""`monitor check-config`'s stricter reading of notify.yaml.

At start-up the service tolerates a robot whose secrets are missing (it routes around it).
Before that, an operator should hear about it: an unset variable of an enabled robot, a
filled-in value that cannot work, a secret written in the file, and a fresh install whose
alerts will wait until some robot is configured. Messages never show a secret's value.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from monitor.errors import ConfigError
from monitor.notify.config import (
    NOT_SEC,
    REFERENCE,
    NotifyConfig,
    Platform,
    Target,
    load_notify_config,
    notify_path,
)
from monitor.yamlconfig import Lines, read_yaml

SECRET_HOME = "in the environment or MONITOR_SECRETS_FILE"
# Platforms whose webhook address is itself the credential (key, token or hook id in it).
_URL_IS_SECRET = (Platform.WECOM, Platform.DINGTALK, Platform.FEISHU, Platform.SLACK)


def check_notify_config(path: Path | None = None, env: dict[str, str] | None = None
                        ) -> tuple[NotifyConfig, list[str]]:
    """Load notify.yaml as the service does, then audit its secrets. Raises ConfigError with
    every error; returns the warnings."""
    env = dict(os.environ if env is None else env)
    path = notify_path(path, env)
    config = load_notify_config(path, env)
    _, lines = read_yaml(path)
    targets = [config.targets[robot.id] for robot in config.robots]
    ready = [t for t in targets if t.configured]
    errors: list[str] = []
    warnings: list[str] = []
    for i, target in enumerate(targets):
        at = _Place(path, lines, i, target.robot.id)
        warnings += _written_in_file(target, at)
        if target.robot.enabled:
            # With no robot configured at all this is a fresh install, not a mistake.
            errors += _unset(target, at) if ready else []
            errors += _filled_in(target, at)
    if not ready:
        warnings.append(_waiting(path, targets))
    if errors:
        raise ConfigError(errors)
    return config, warnings


class _Place:
    """`notify.yaml:17: robots[1] (id=environment).secret`, the way load errors read."""

    def __init__(self, path: Path, lines: Lines, index: int, robot_id: str) -> None:
        self.path, self.lines, self.index, self.robot_id = path, lines, index, robot_id

    def __call__(self, field: str) -> str:
        line = self.lines.get(("robots", self.index, field),
                              self.lines.get(("robots", self.index), 1))
        return f"{self.path}:{line}: robots[{self.index}] (id={self.robot_id}).{field}"


def _written_in_file(target: Target, at: _Place) -> list[str]:
    robot, move = target.robot, f"move it into a variable {SECRET_HOME} and write ${{NAME}} here"
    found = []
    if robot.secret and not REFERENCE.search(robot.secret):
        found.append(f"{at('secret')}: the secret is written in the file; {move}")
    if robot.platform in _URL_IS_SECRET and not REFERENCE.search(robot.url):
        found.append(f"{at('url')}: a {robot.platform} address carries the robot's key and is "
                     f"written in the file; {move}")
    return found


def _unset(target: Target, at: _Place) -> list[str]:
    robot = target.robot
    return [f"{at(field)}: ${{{name}}} is not set {SECRET_HOME}; set it, or write "
            f"`enabled: false` for this robot"
            for field, text in (("url", robot.url), ("secret", robot.secret or ""))
            for name in REFERENCE.findall(text) if name in target.missing]


def _filled_in(target: Target, at: _Place) -> list[str]:
    """Values that came from the environment: an address must be http(s), a DingTalk
    secret must start with SEC. Only the scheme is shown, never the value."""
    robot, found = target.robot, []
    if not target.configured:
        return found
    parts = urlsplit(target.url)
    web = parts.scheme in ("http", "https") and parts.hostname
    if REFERENCE.search(robot.url) and not web:
        found.append(f"{at('url')}: as filled in, {robot.url} is not an http(s) address "
                     f"(scheme {parts.scheme or 'missing'!r})")
    if (robot.platform is Platform.DINGTALK and robot.secret and REFERENCE.search(robot.secret)
            and not (target.secret or "").startswith("SEC")):
        found.append(f"{at('secret')}: " + NOT_SEC.format(robot.secret))
    return found


def _waiting(path: Path, targets: list[Target]) -> str:
    names = sorted({name for t in targets if t.robot.enabled for name in t.missing})
    how = (f"set {', '.join(names)} {SECRET_HOME}" if names
           else "add a robot under robots:, or enable one")
    return f"{path}: no robot is configured yet, so alerts will wait in the outbox until one " \
           f"is ({how})"
