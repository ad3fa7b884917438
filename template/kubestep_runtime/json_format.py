"""JSON log lines: python-json-logger's output, for a fraction of its work per line.

Every request writes a line, so what the library does per record in general (a new encoder
per line, a datetime through the encoder's callback, renames looked up field by field) is
paid on every call. The output stays the library's: records it treats specially (a dict
message, exceptions, stacks) and options kubestep does not use go through its own `format()`.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from pythonjsonlogger.json import JsonEncoder
from pythonjsonlogger.json import JsonFormatter as LibraryJsonFormatter

REQUEST_FIELDS = ("method", "path", "status", "duration_ms")
"""The `extra` fields of a request line, in the order the request log passes them."""
_RECORD_SLOTS = {"message": "%(message)s", "levelname": "%(level)s", "name": "%(name)s"}


def iso_timestamp(created: float) -> str:
    """`datetime.fromtimestamp(created, UTC).isoformat()`, the library's `@timestamp`.

    Lines come many per second: the date and time up to the second are formatted once per
    second, and only the microseconds (rounded half to even, as datetime does) each time.
    """
    global _last_second
    if created >= 2:  # then created - floor(created) is exact, as datetime's modf is
        second = math.floor(created)
        micro = round((created - second) * 1e6)
        if micro < 1_000_000:
            cached = _last_second
            if cached[0] != second:
                text = datetime.fromtimestamp(second, tz=UTC).isoformat()[: -len(_UTC)]
                cached = _last_second = (second, text)
            return f"{cached[1]}.{micro:06d}{_UTC}" if micro else cached[1] + _UTC
    return datetime.fromtimestamp(created, tz=UTC).isoformat()


_UTC = "+00:00"
_last_second: tuple[int, str] = (-1, "")


class JsonFormatter(LibraryJsonFormatter):
    """A drop-in for `pythonjsonlogger.json.JsonFormatter` (the same options and output)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One encoder for every line, configured as json.dumps configures a new one each time.
        self._encode = JsonEncoder(
            indent=self.json_indent, ensure_ascii=self.json_ensure_ascii
        ).encode
        self._escape = encode_basestring_ascii if self.json_ensure_ascii else encode_basestring
        rename = self.rename_fields.get
        self._fields = [(field, rename(field, field)) for field in self._required_fields]
        self._static = {rename(key, key): value for key, value in self.static_fields.items()}
        stamp = self.timestamp if isinstance(self.timestamp, str) else "timestamp"
        self._timestamp_key = rename(stamp, stamp) if self.timestamp else None
        self._library_only = bool(
            self.defaults
            or self.rename_fields_keep_missing
            or "asctime" in self._required_fields
            or self.json_serializer is not json.dumps
            or self.json_encoder is not JsonEncoder  # its own datetime format, say
            or type(self).process_log_record is not LibraryJsonFormatter.process_log_record
        )
        # The request line is built with json.dumps' separators, as without an indent.
        template_less = self._library_only or self.json_indent is not None
        self._request_template = None if template_less else self._template()

    def format(self, record: logging.LogRecord) -> str:
        if (
            self._library_only
            or isinstance(record.msg, dict)
            or record.exc_info
            or record.exc_text
            or record.stack_info
        ):
            return super().format(record)
        record.message = record.getMessage()
        attributes = record.__dict__
        data = {name: attributes.get(field) for field, name in self._fields}
        data.update(self._static)
        skip, rename = self._skip_fields, self.rename_fields.get
        for key, value in attributes.items():
            if key not in skip and not (isinstance(key, str) and key.startswith("_")):
                data[rename(key, key)] = value
        if self._timestamp_key:
            data[self._timestamp_key] = iso_timestamp(record.created)
        return self.prefix + self._encode(data)

    def request_line(
        self,
        record_values: tuple[str, str, str],
        method: str,
        path: str,
        status: int,
        duration_ms: float,
        created: float,
    ) -> str | None:
        """What `format()` writes for the request log's record, made from its values alone.

        `record_values` is (message, levelname, logger name). None when this formatter's
        options need a real record.
        """
        if self._request_template is None or not math.isfinite(duration_ms):
            return None
        escape = self._escape
        message, level, name = record_values
        return self._request_template % {
            "message": escape(message),
            "level": escape(level),
            "name": escape(name),
            "method": escape(method),
            "path": escape(path),
            "status": int(status),
            "duration_ms": repr(float(duration_ms)),
            "timestamp": f'"{iso_timestamp(created)}"',
        }

    def _template(self) -> str | None:
        """The request line with %-slots, its keys in the order `format()` builds them."""
        slots: dict[str, str] = {}
        for field, name in self._fields:
            if field not in _RECORD_SLOTS:
                return None  # a record attribute only a real record has
            slots[name] = _RECORD_SLOTS[field]
        for key, value in self._static.items():
            slots[key] = self._encode(value).replace("%", "%%")
        for field in REQUEST_FIELDS:
            if field in self._skip_fields:
                return None  # the library would leave it out
            slots[self.rename_fields.get(field, field)] = f"%({field})s"
        if self._timestamp_key:
            slots[self._timestamp_key] = "%(timestamp)s"
        pairs = (f"{self._encode(key).replace('%', '%%')}: {slot}" for key, slot in slots.items())
        return self.prefix.replace("%", "%%") + "{" + ", ".join(pairs) + "}"
