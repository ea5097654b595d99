"""One JSON object per log line, for log collectors (LOG_FORMAT=json).

Each line holds the time in UTC (ISO 8601), the level, the logger's name, the message
with its arguments filled in, the formatted exception when there is one, and the request
id when the record carries one (a proxy's X-Request-ID put on the record by a filter or
passed as `extra={"request_id": ...}`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging


class JsonFormatter(logging.Formatter):
    """Format a record as a single line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            request = getattr(record, "request", None)
            request_id = getattr(request, "META", {}).get("HTTP_X_REQUEST_ID")
        if request_id:
            entry["request_id"] = str(request_id)
        # default=str: an argument a logger passed that JSON cannot hold becomes its text.
        return json.dumps(entry, ensure_ascii=False, default=str)
