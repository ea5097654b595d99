"""LOG_FORMAT=json: one JSON object per line with time, level, logger, message, exception."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from django.test import RequestFactory

from cer.core import sentry
from cer.core.logging_json import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord(
        "cer.metering", logging.WARNING, __file__, 1, "%s lost", ("3",), None
    )
    record.created = 1_775_000_000.123  # 2026-03-31T23:33:20.123Z
    record.__dict__.update(extra)
    return record


def test_a_record_is_one_json_line_in_utc():
    line = JsonFormatter().format(_record())

    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-03-31T23:33:20.123+00:00",
        "level": "WARNING",
        "logger": "cer.metering",
        "message": "3 lost",
    }


def test_the_exception_and_the_request_id_are_included():
    try:
        raise ValueError('bad "quote"\nand a new line')
    except ValueError:
        exc_info = sys.exc_info()
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-42")

    entry = json.loads(JsonFormatter().format(_record(exc_info=exc_info, request=request)))

    assert entry["exception"].startswith("Traceback")
    assert 'ValueError: bad "quote"' in entry["exception"]
    assert entry["request_id"] == "req-42"


def test_settings_use_the_formatter_when_asked_and_refuse_an_unknown_format():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('cer.test').warning('hello %s', 'json')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_FORMAT": "json"}

    done = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    entry = json.loads(done.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello json" and entry["logger"] == "cer.test"
    refused = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "LOG_FORMAT='xml'" in refused.stderr


def test_sentry_set_but_not_installed_is_a_warning_not_a_crash(settings, monkeypatch):
    settings.SENTRY_DSN = "https://key@o0.ingest.sentry.io/1"
    monkeypatch.setattr(sentry, "sentry_installed", lambda: False)

    warnings = sentry.sentry_configured()

    assert [warning.id for warning in warnings] == ["cer.W031"]
    assert "pip install sentry-sdk" in warnings[0].hint
    assert sentry.init_sentry(settings.SENTRY_DSN, environment="x", traces_sample_rate=0) is False
    settings.SENTRY_DSN = ""
    assert sentry.sentry_configured() == []
