"""Dataclasses to plain YAML-safe data and back, driven by the type hints of model.py.

One generic converter keeps to_dict and from_dict in step with the model: a field added to a
dataclass is written and read without touching this file.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Any

from kubestep.errors import InvalidValue


def to_plain(value: Any) -> Any:
    """Dataclasses become dicts in field order; records drop empty fields, sections keep them."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        keep_empty = getattr(value, "keep_empty", False)
        result = {}
        for item in dataclasses.fields(value):
            plain = to_plain(getattr(value, item.name))
            if keep_empty or (plain is not None and plain != []):
                result[item.name] = plain
        return result
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def from_plain(kind: Any, data: Any, where: str) -> Any:
    """Build an instance of kind (a model type hint) from plain data; where names the key path."""
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(kind) if option is not type(None)]
        return from_plain(options[0], data, where)
    if origin is list:
        if not isinstance(data, list):
            raise InvalidValue(f"{where} must be a list, got {data!r}")
        (item_kind,) = typing.get_args(kind)
        return [from_plain(item_kind, item, f"{where}[{index}]") for index, item in enumerate(data)]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise InvalidValue(f"{where} must be a mapping, got {data!r}")
        hints = _hints(kind)
        values = {
            name: from_plain(hints[name], data[name], f"{where}.{name}")
            for name in hints
            if name in data
        }
        # to_plain drops None: a field that must be given but may be None comes back as None.
        values.update({name: None for name in _optional_required(kind) if name not in data})
        try:
            return kind(**values)
        except TypeError as error:
            raise InvalidValue(f"{where} is incomplete: {error}") from None
    return data


@cache
def _hints(kind: type) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    return {item.name: hints[item.name] for item in dataclasses.fields(kind)}


@cache
def _optional_required(kind: type) -> tuple[str, ...]:
    """Fields without a default whose type admits None (`path: str | None`)."""
    hints = _hints(kind)
    return tuple(
        item.name
        for item in dataclasses.fields(kind)
        if item.default is dataclasses.MISSING
        and item.default_factory is dataclasses.MISSING
        and type(None) in typing.get_args(hints[item.name])
    )
