"""JSON log lines for production: one object per line, with the request id (and method and
path) of the request being served, so a log line, an access line and a timeline event
(`OrderEvent.request_id`) can be joined on `request_id`.

Used by `LOGGING` (settings, `LOG_FORMAT=json`, the default when DEBUG is off) and by
gunicorn's `logconfig_dict` (gunicorn.conf.py), whose access lines become
`{"logger": "gunicorn.access", "method", "path", "status", "duration_ms", "request_id", ...}`.
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from installer.middleware import current_request

# LogRecord attributes that are not extra fields.
_RESERVED = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "taskName", "request"}
)


class RequestContextFilter(logging.Filter):
    """Adds `request_id`, `method` and `path` of the current request (a context variable set by
    RequestIdMiddleware) to every record; leaves records logged outside a request alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_request()
        if context is not None:
            for key, value in context.items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True


def _access_fields(atoms: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's access-log atoms -> named fields (see gunicorn's "access_log_format")."""

    def number(value: Any) -> Any:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    return {
        "request_id": atoms.get("{x-request-id}o") or atoms.get("{x-request-id}i") or None,
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "query": atoms.get("q") or None,
        "status": number(atoms.get("s")),
        "duration_ms": round(number(atoms.get("D")) / 1000, 1) if number(atoms.get("D")) is not None else None,
        "bytes": number(atoms.get("B")),
        "remote_addr": atoms.get("h"),
        "user_agent": atoms.get("a"),
        "pid": number(atoms.get("p", "").strip("<>")),
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request context and any
    `extra=` fields. Exceptions go in `exc_info` as text."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            data["message"] = "request"
            data.update(_access_fields(record.args))
        else:
            data["message"] = record.getMessage()
            for key, value in vars(record).items():
                if key not in _RESERVED and not key.startswith("_"):
                    data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)
