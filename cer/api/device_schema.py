"""How the readings endpoints appear in the OpenAPI document: their bodies and the
devices' security scheme, added to the API's components by cer.api.schema.

The bodies are the platform's JSON format (docs/metering.md), validated by
cer.metering.ingest; a reading is either an interval or a counter, which a
serializer cannot say, so the schemas are written out here.
"""

from __future__ import annotations

from typing import Any

from cer.metering.ingest import MAX_READINGS_PER_MESSAGE

DEVICE_BASIC_SCHEME_NAME = "deviceBasicAuth"

_WH = {"type": "integer", "minimum": 0}
_INSTANT = {"type": "string", "format": "date-time", "description": "With its UTC offset."}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


COMPONENTS: dict[str, dict[str, Any]] = {
    "securitySchemes": {
        DEVICE_BASIC_SCHEME_NAME: {
            "type": "http",
            "scheme": "basic",
            "description": (
                "A metering device: its MQTT username and secret (shown once when the "
                "device is created or its secret rotated), for the readings endpoints only. "
                "Requests are limited per client address and per username; after repeated "
                "wrong secrets the username (or the address) gets 429 with `Retry-After` "
                "until the window ends."
            ),
        }
    },
    "schemas": {
        "DeviceReading": {
            "type": "object",
            "description": (
                "An interval reading (`start`, `end`, `injected_wh` and/or `withdrawn_wh`) "
                "or, from a device only, a counter reading (`at`, `injected_total_wh` and/or "
                "`withdrawn_total_wh`). Energy is whole Wh."
            ),
            "properties": {
                "start": _INSTANT,
                "end": _INSTANT,
                "injected_wh": _WH,
                "withdrawn_wh": _WH,
                "at": _INSTANT,
                "injected_total_wh": _WH,
                "withdrawn_total_wh": _WH,
            },
            "additionalProperties": False,
        },
        "DeviceReadingList": {
            "type": "object",
            "required": ["readings"],
            "properties": {
                "v": {"type": "integer", "description": "Format version (optional)."},
                "readings": {
                    "type": "array",
                    "items": _ref("DeviceReading"),
                    "minItems": 1,
                    "maxItems": MAX_READINGS_PER_MESSAGE,
                },
            },
            "additionalProperties": False,
        },
        "DeviceReadings": {
            "description": (
                'One reading, or `{"readings": [...]}`. Posting a body again records '
                "nothing twice: its readings count as duplicates."
            ),
            "oneOf": [_ref("DeviceReading"), _ref("DeviceReadingList")],
        },
        "IngestOutcome": {
            "type": "object",
            "required": ["accepted", "duplicates"],
            "properties": {
                "accepted": {"type": "integer", "description": "Readings recorded now."},
                "duplicates": {"type": "integer", "description": "Readings recorded before."},
            },
        },
        "IngestError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {
                        "field": {
                            "type": "string",
                            "description": "What is at fault: a body field such as "
                            "`readings[1].injected_wh`, or `Authorization`, `user`, "
                            "`csrfmiddlewaretoken`.",
                        },
                        "message": {"type": "string"},
                    },
                }
            },
        },
    },
}

READINGS_BODY = _ref("DeviceReadings")
OUTCOME = _ref("IngestOutcome")
INGEST_ERROR = _ref("IngestError")
