"""How log records look on stderr: one text line, or one JSON object per line (``--log-format json``).

Owns: the two formatters. A JSON line carries ``time`` (ISO 8601 in UTC, to the millisecond, with
its ``Z``), ``level``, ``logger`` and ``message``, and every value the code logged as a field (the
``extra`` of a logging call: ``source``, ``result``, ``new``, ``duration``, ...) as a field of its
own, so that a log collector can filter on them without parsing the message. Must not: read the
clock (the record's creation time is logging's own) or configure handlers (the CLI does).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# The attributes every LogRecord has: anything else on a record came from ``extra``.
STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}

TEXT_FORMAT = "feedbot: %(levelname)s: %(message)s"


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The values a logging call passed as ``extra``."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in STANDARD_ATTRIBUTES and not key.startswith("_")
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        data: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields(record).items():
            data.setdefault(key, _plain(value))
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT)
