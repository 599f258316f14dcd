"""docker-compose.yml and the Dockerfile, checked without a Docker engine: every path,
port, volume and provisioning file the stack refers to exists, and the image's file list
(the Dockerfile's COPY lines filtered by .dockerignore) holds everything start-up reads."""

from __future__ import annotations

import fnmatch
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

from monitor.config import load_settings
from monitor.notify.config import DEFAULT_FILE as NOTIFY_FILE

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
MONITORS = [name for name, s in SERVICES.items() if "build" in s]


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def ignored(path: PurePosixPath, patterns: list[str]) -> bool:
    """.dockerignore as Docker reads it (no `!` exceptions are used here): a pattern matches
    the path or a directory above it; `**/` matches at any depth."""
    parts = path.parts
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    for pattern in patterns:
        for candidate in candidates:
            if fnmatch.fnmatch(candidate, pattern) or (pattern.startswith("**/") and any(
                    fnmatch.fnmatch("/".join(candidate.split("/")[i:]), pattern[3:])
                    for i in range(len(candidate.split("/"))))):
                return True
    return False


def image_files() -> set[PurePosixPath]:
    """Paths inside the image that the COPY instructions put there."""
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    assert not any(p.startswith("!") for p in patterns)
    workdir, files = PurePosixPath("/"), set()
    for instruction, args in dockerfile():
        if instruction == "WORKDIR":
            workdir = workdir / args
        if instruction != "COPY" or "--from" in args:
            continue
        *sources, dest = shlex.split(args)
        target = workdir / dest
        for source in sources:
            local = ROOT / source
            assert local.exists(), f"Dockerfile copies {source}, which is not in the repo"
            found = [local] if local.is_file() else [p for p in local.rglob("*") if p.is_file()]
            for path in found:
                rel = PurePosixPath(path.relative_to(ROOT).as_posix())
                if ignored(rel, patterns):
                    continue
                inside = rel.relative_to(source.rstrip("/")) if local.is_dir() else rel.name
                files.add(target / inside if (local.is_dir() or dest.endswith("/"))
                          else target)
    return files


def test_the_dockerignore_reader_excludes_like_docker():
    assert ignored(PurePosixPath("monitor/wall/__pycache__/x.pyc"), ["**/__pycache__"])
    assert ignored(PurePosixPath("tests/test_x.py"), ["tests"])
    assert not ignored(PurePosixPath("monitor/tests.py"), ["tests"])


def test_the_image_holds_everything_start_up_reads():
    files = image_files()
    settings = load_settings()
    workdir = next(PurePosixPath(a) for i, a in dockerfile() if i == "WORKDIR")
    for config in (settings.feeds_file, settings.tracking_file, NOTIFY_FILE):
        assert workdir / config in files, f"{config} is not in the image"
    # Package data (the model, taxonomy, gazetteer, grouping scorer) is installed from the
    # copied packages, so each file the patterns name must be copied.
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]
    for package, patterns in package_data.items():
        for pattern in patterns:
            for path in (ROOT / package).glob(pattern):
                if path.is_file():
                    rel = PurePosixPath(path.relative_to(ROOT).as_posix())
                    assert workdir / rel in files, f"{rel} is not in the image"
    assert workdir / "classifiers/models/classifier.npz" in files  # the model itself


def test_the_image_runs_as_a_user_and_checks_its_health():
    steps = dockerfile()
    users = [a for i, a in steps if i == "USER"]
    assert users and users[-1] not in ("root", "0")
    [health] = [a for i, a in steps if i == "HEALTHCHECK"]
    assert "/healthz" in health
    port = next(a for i, a in steps if i == "EXPOSE")
    assert f"MONITOR_HTTP_PORT={port}" in " ".join(a for i, a in steps if i == "ENV")


def test_compose_builds_the_monitor_twice_and_pins_every_image():
    assert len(MONITORS) >= 2  # the service and a second worker on the same streams
    for name in MONITORS:
        service = SERVICES[name]
        assert (ROOT / service["build"] / "Dockerfile").is_file()
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    for name, service in SERVICES.items():
        if "build" in service:
            continue
        image, _, tag = service["image"].partition(":")
        assert tag and tag != "latest" and (tag[0].isdigit() or tag.startswith("v")), name
        assert "healthcheck" in service, name


def test_redis_keeps_an_append_only_file_on_a_volume():
    redis = SERVICES["redis"]
    assert redis["image"].startswith("redis:7")
    assert "--appendonly" in redis["command"] and "yes" in redis["command"]
    assert any(v.endswith(":/data") and v.split(":")[0] in COMPOSE["volumes"]
               for v in redis["volumes"])


def test_every_mount_and_named_volume_exists():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is missing"
            else:
                assert source in COMPOSE["volumes"], f"{name}: volume {source} not declared"


def test_host_ports_are_unique():
    ports = [p.split(":")[0] for s in SERVICES.values() for p in s.get("ports", [])]
    assert len(ports) == len(set(ports))


def mounted(service: str, path: str) -> Path:
    """The repo path behind a path inside a container."""
    for volume in SERVICES[service]["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith(".") and (path == target or path.startswith(target + "/")):
            return ROOT / source / path[len(target):].lstrip("/")
    raise AssertionError(f"{service} does not mount {path}")


def test_prometheus_scrapes_both_monitors_and_loads_the_rules():
    command = SERVICES["prometheus"]["command"]
    config_path = next(c.split("=", 1)[1] for c in command if c.startswith("--config.file="))
    config = yaml.safe_load(mounted("prometheus", config_path).read_text(encoding="utf-8"))
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"]
               for t in sc["targets"]}
    for name in MONITORS:
        port = SERVICES[name]["environment"]["MONITOR_HTTP_PORT"]
        assert f"{name}:{port}" in targets
    for pattern in config["rule_files"]:
        directory, glob = pattern.rsplit("/", 1)
        assert list(mounted("prometheus", directory).glob(glob)), pattern
    [am] = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert am.split(":")[0] in SERVICES


def test_grafana_is_provisioned_with_an_anonymous_viewer():
    grafana = SERVICES["grafana"]
    env = grafana["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD")
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert mounted("grafana", env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]).is_file()
    provisioning = mounted("grafana", "/etc/grafana/provisioning")
    assert list((provisioning / "datasources").glob("*.yaml"))
    for provider_file in (provisioning / "dashboards").glob("*.yaml"):
        for provider in yaml.safe_load(provider_file.read_text())["providers"]:
            folder = mounted("grafana", provider["options"]["path"])
            assert {"wall.json", "operator.json"} <= {p.name for p in folder.glob("*.json")}


def test_alertmanager_config_is_mounted():
    am = SERVICES["alertmanager"]
    config = next(c.split("=", 1)[1] for c in am["command"] if c.startswith("--config.file="))
    receivers = yaml.safe_load(mounted("alertmanager", config).read_text())["receivers"]
    urls = [w["url"] for r in receivers for w in r.get("webhook_configs", [])]
    assert urls and all(u.split("/")[2].split(":")[0] in SERVICES for u in urls)


@pytest.mark.skipif(shutil.which("docker") is None or subprocess.run(
    ["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="no docker compose client here")
def test_docker_compose_config_passes():
    done = subprocess.run(["docker", "compose", "config", "--quiet"], cwd=ROOT,
                          capture_output=True, text=True,
                          env={"GRAFANA_ADMIN_PASSWORD": "x", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


def test_alertmanager_sends_the_token_the_monitor_expects():
    """Alertmanager reads the bearer token from the compose secret made of the same variable
    the monitors read (MONITOR_ALERTMANAGER_TOKEN)."""
    am = SERVICES["alertmanager"]
    config = next(c.split("=", 1)[1] for c in am["command"] if c.startswith("--config.file="))
    receivers = yaml.safe_load(mounted("alertmanager", config).read_text())["receivers"]
    [hook] = [w for r in receivers for w in r.get("webhook_configs", [])]
    assert hook["url"].endswith("/alertmanager/webhook") and hook["send_resolved"]
    auth = hook["http_config"]["authorization"]
    assert auth["type"] == "Bearer"
    [secret] = am["secrets"]
    assert auth["credentials_file"] == f"/run/secrets/{secret}"
    variable = COMPOSE["secrets"][secret]["environment"]
    assert variable == "MONITOR_ALERTMANAGER_TOKEN"
    for name in MONITORS:
        assert SERVICES[name]["environment"][variable] == f"${{{variable}:-}}"
    assert load_settings(MONITOR_ALERTMANAGER_TOKEN="t").alertmanager_token.get_secret_value() \
        == "t"


def test_rsshub_is_optional_internal_and_has_its_own_cache():
    rsshub, cache = SERVICES["rsshub"], SERVICES["rsshub-redis"]
    assert rsshub["profiles"] == ["rsshub"] and cache["profiles"] == ["rsshub"]
    assert rsshub["image"].startswith("diygod/rsshub:")
    assert "ports" not in rsshub and "ports" not in cache  # the compose network only
    env = rsshub["environment"]
    assert env["CACHE_TYPE"] == "redis"
    assert env["REDIS_URL"].split("/")[2].split(":")[0] == "rsshub-redis"
    assert cache["image"].startswith("redis:7")
    assert rsshub["depends_on"]["rsshub-redis"]["condition"] == "service_healthy"
    assert not any("rsshub" in str(SERVICES[m].get("depends_on", {})) for m in MONITORS)


def test_the_monitors_reach_rsshub_when_the_profile_is_on():
    """Compose cannot set a variable by profile: the monitors pass RSSHUB_URL through, the
    file's header says to set it to the rsshub service with the profile, and that address
    is one the settings accept (as is the empty value without it)."""
    for name in MONITORS:
        assert SERVICES[name]["environment"]["RSSHUB_URL"] == "${RSSHUB_URL:-}"
    header = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "RSSHUB_URL=http://rsshub:1200 docker compose --profile rsshub up -d" in header
    assert "RSSHUB_URL=http://rsshub:1200 docker compose --profile rsshub up -d" in \
        (ROOT / "README.md").read_text(encoding="utf-8")
    assert load_settings(RSSHUB_URL="http://rsshub:1200").rsshub_bases == ["http://rsshub:1200"]
    assert load_settings(RSSHUB_URL="").rsshub_bases == []


def test_a_monitor_listening_beyond_loopback_finds_its_officers_on_a_volume():
    """Start-up refuses a non-loopback bind with no officer named: the compose services must
    read the officers file from a volume that `docker compose run … officers add` writes."""
    anchor = COMPOSE["x-monitor"]
    env = anchor["environment"]
    assert env["MONITOR_HTTP_HOST"] == "0.0.0.0"
    officers = PurePosixPath(env["MONITOR_OFFICERS"])
    mounts = [PurePosixPath(v.split(":")[1]) for v in anchor["volumes"]]
    assert any(m in officers.parents for m in mounts), (officers, mounts)
    owned = " ".join(args for instruction, args in dockerfile() if instruction == "RUN")
    assert all("chown monitor:monitor" in owned and str(m) in owned for m in mounts)
