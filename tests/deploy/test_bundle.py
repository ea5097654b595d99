"""The deployment bundle, checked as far as this machine allows without installing it.

Nothing here installs a service or builds an image: scripts are parsed by bash and linted
by shellcheck, units checked by `systemd-analyze verify` (with the install paths pointed
at this checkout's interpreter), the compose file by PyYAML with every command looked up
among the manage.py commands, and the Dockerfile against a few rules and by hadolint.
The installation itself is tried by hand on a fresh Debian: deploy/debian/try-in-chroot.sh.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
DEBIAN = ROOT / "deploy" / "debian"
CONTAINER = ROOT / "deploy" / "container"
UNITS = sorted((DEBIAN / "systemd").iterdir())
SCRIPTS = [
    DEBIAN / "install.sh",
    DEBIAN / "upgrade.sh",
    DEBIAN / "release.sh",
    DEBIAN / "cercollettiva-manage",
    DEBIAN / "try-in-chroot.sh",
]
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ReadWritePaths": "/var/lib/cercollettiva",
}
SETTINGS_SOURCES = [ROOT / "config" / "settings.py", ROOT / "cer" / "metering" / "broker.py"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse_and_stop_on_errors(script):
    assert _run("bash", "-n", str(script)).returncode == 0
    text = script.read_text()
    if script.name != "release.sh":  # a library sourced by the others
        assert "set -euo pipefail" in text


def _is_shell(path: Path) -> bool:
    if path.suffix == ".sh":
        return True
    with path.open("rb") as file:
        return re.match(rb"#!\S*(/|env )(ba)?sh\b", file.readline()) is not None


def _shell_scripts() -> list[Path]:
    found = [
        path
        for folder in (ROOT / "deploy", ROOT / "scripts")
        for path in folder.rglob("*")
        if path.is_file() and _is_shell(path)
    ]
    ci = ROOT / ".ci" / "run"
    if ci.is_file():
        found.append(ci)
    return sorted(found)


def _linter(name: str) -> str:
    # A development dependency (pyproject.toml): its wheel carries the binary into the
    # virtualenv, next to this interpreter.
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} missing: pip install -c constraints.txt -e '.[dev]'"
    return found


def test_shellcheck_finds_nothing_in_any_shell_script():
    scripts = _shell_scripts()
    assert set(SCRIPTS) <= set(scripts)
    assert ROOT / "scripts" / "lib.sh" in scripts
    assert ROOT / "deploy" / "mosquitto" / "make-certs.sh" in scripts

    # -x follows the files the scripts source; run from the root, where the
    # `# shellcheck source=` paths start.
    done = subprocess.run(  # noqa: S603
        [_linter("shellcheck"), "-x", *(str(path.relative_to(ROOT)) for path in scripts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_finds_nothing_in_the_dockerfile():
    done = _run(_linter("hadolint"), "--no-color", str(CONTAINER / "Dockerfile"))

    assert done.returncode == 0, done.stdout + done.stderr


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def _manage_command(exec_start: str) -> str | None:
    words = shlex.split(exec_start.replace("\\\n", " "))
    return words[words.index("manage.py") + 1] if "manage.py" in words else None


@pytest.mark.parametrize("unit", [u for u in UNITS if u.suffix == ".service"], ids=lambda p: p.name)
def test_each_service_is_hardened_and_runs_an_existing_command(unit):
    service = _unit(unit)["Service"]

    assert service["User"] == "cercollettiva"
    assert service["EnvironmentFile"] == "/etc/cercollettiva/env"
    for key, value in HARDENING.items():
        assert service[key] == value, key
    command = _manage_command(service["ExecStart"])
    if command is None:
        started = " ".join(service["ExecStart"].split())
        assert "gunicorn config.wsgi:application" in started or re.search(
            r"/celery -A config (worker|beat)( |$)", started
        ), started
    else:
        assert command in get_commands()


def test_the_expected_units_are_there():
    names = {unit.name for unit in UNITS}
    assert names == {
        "cercollettiva-web.service",
        "cercollettiva-scheduler.service",
        "cercollettiva-settlement.service",
        "cercollettiva-ingest@.service",
        "cercollettiva-backup.service",
        "cercollettiva-backup.timer",
        "cercollettiva-worker.service",
        "cercollettiva-beat.service",
    }
    assert (
        "celery -A config worker"
        in _unit(DEBIAN / "systemd" / "cercollettiva-worker.service")["Service"]["ExecStart"]
    )
    assert (
        "celery -A config beat"
        in _unit(DEBIAN / "systemd" / "cercollettiva-beat.service")["Service"]["ExecStart"]
    )
    assert _unit(DEBIAN / "systemd" / "cercollettiva-backup.timer")["Timer"]["Persistent"] == "true"
    assert (
        "backup --encrypt"
        in _unit(DEBIAN / "systemd" / "cercollettiva-backup.service")["Service"]["ExecStart"]
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_verifies_every_unit(tmp_path):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    for unit in UNITS:
        text = unit.read_text()
        text = text.replace("/opt/cercollettiva/venv/bin/python", sys.executable)
        text = text.replace("/opt/cercollettiva/venv/bin/gunicorn", str(gunicorn))
        text = text.replace("/opt/cercollettiva/venv/bin/celery", str(gunicorn.with_name("celery")))
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text)
    files = sorted(str(path) for path in tmp_path.iterdir())

    done = _run("systemd-analyze", "verify", *files)

    # verify fails only for a missing binary; unknown keys and bad values are warnings.
    ours = [line for line in done.stderr.splitlines() if str(tmp_path) in line]
    assert done.returncode == 0, done.stderr
    assert ours == []


def _compose() -> dict:
    return yaml.safe_load((CONTAINER / "compose.yaml").read_text())


def test_compose_runs_every_process_with_existing_commands():
    services = _compose()["services"]
    commands = get_commands()
    used: set[str] = set()
    for name, service in services.items():
        command = service.get("command")
        if not command or not str(service.get("image", "")).startswith("cercollettiva"):
            continue
        text = " ".join(command) if isinstance(command, list) else command
        for found in re.findall(r"manage\.py (\w+)", text):
            assert found in commands, f"{name}: {found}"
            used.add(found)
        if "gunicorn" in text:
            assert "config.wsgi:application" in text
            used.add("gunicorn")
        for found in re.findall(r"celery -A config (worker|beat)", text):
            used.add(f"celery {found}")
    assert {"gunicorn", "migrate", "ingest_mqtt", "celery worker", "celery beat"} <= used
    assert services["redis"]["image"].startswith("redis:")
    assert {"postgres", "mosquitto", "proxy", "web", "scheduler", "settlement", "ingest-1"} <= set(
        services
    )


def test_compose_starts_the_app_after_the_migration():
    services = _compose()["services"]
    for name in ("web", "scheduler", "settlement", "ingest-1"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name


def test_the_dockerfile_follows_the_rules():
    # One instruction per line: continuation lines joined, comments dropped.
    text = re.sub(r"\\\n", " ", (CONTAINER / "Dockerfile").read_text())
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert len(froms) >= 2, "multi-stage"
    for image in froms:
        assert re.fullmatch(r"[\w./-]+:[\w.-]*\d[\w.-]*", image), f"FROM {image} is not pinned"
        assert not image.endswith(":latest")
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in lines)
    assert not [line for line in lines if re.match(r"ADD\s+https?://", line)]


def _heredoc_keys(text: str) -> set[str]:
    body = text.split("<<ENV\n", 1)[1].split("\nENV\n", 1)[0]
    return {line.split("=", 1)[0] for line in body.splitlines() if re.match(r"^[A-Z_]+=", line)}


def _settings_variables() -> set[str]:
    source = "\n".join(path.read_text() for path in SETTINGS_SOURCES)
    return set(re.findall(r'(?:environ\.get|env_bool|env_list|_setting)\(\s*"([A-Z_]+)"', source))


def test_the_generated_environment_sets_every_production_secret_with_known_names():
    keys = _heredoc_keys((DEBIAN / "install.sh").read_text())
    container_keys = {
        line.split("=", 1)[0]
        for line in (CONTAINER / "env.example").read_text().splitlines()
        if re.match(r"^[A-Z_]+=", line)
    }
    known = _settings_variables()

    required = {
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "FIELD_ENCRYPTION_KEYS",
        "DATABASE_URL",
    }
    assert required <= keys
    assert {"BACKUP_ENCRYPTION_KEY", "MQTT_ADMIN_PASSWORD", "MQTT_INGEST_PASSWORD"} <= keys
    assert keys - known == set(), "install.sh writes variables the settings do not read"
    # POSTGRES_PASSWORD is for the postgres image and compose's DATABASE_URL.
    assert container_keys - known == {"POSTGRES_PASSWORD"}


def test_the_install_script_creates_the_environment_file_once_and_private():
    text = (DEBIAN / "install.sh").read_text()
    assert 'if [ ! -f "$ENV_FILE" ]; then' in text
    assert 'chmod 0600 "$ENV_FILE"' in text


def test_the_upgrade_migrates_before_restarting():
    text = (DEBIAN / "upgrade.sh").read_text()
    assert text.index("manage migrate") < text.index("systemctl restart")
    assert text.index("manage collectstatic") < text.index("systemctl restart")
