"""Typed settings from the environment that report every problem at once, and fail fast.

A container that starts with bad configuration should say so in one line and exit, so that
`kubectl logs` shows the cause instead of a traceback and the pod goes to CrashLoopBackOff.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import TextIO, TypeVar

from .errors import ConfigError, RuntimeSetupError

__all__ = ["ConfigError", "EnvReader", "env_name", "fail_fast", "require"]

T = TypeVar("T")
FAIL_FAST_EXIT_CODE = 2
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvReader:
    """Reads typed values; collects problems so `check()` can report all of them together."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.problems: list[str] = []

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def _invalid(self, name: str, value: str, expected: str) -> None:
        self.problems.append(f"invalid {name}={value!r} (expected {expected})")

    def require(self, name: str) -> str:
        """A non-empty string that has no default; records a problem when absent."""
        value = self._raw(name)
        if value is None:
            self.problems.append(f"missing required environment variable {name}")
            return ""
        return value

    def text(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def integer(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            self._invalid(name, value, "an integer")
            return default
        if minimum is not None and number < minimum:
            self._invalid(name, value, f"an integer >= {minimum}")
            return default
        return number

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            self._invalid(name, value, "a number")
            return default
        if number < minimum:
            self._invalid(name, value, f"a number >= {minimum:g}")
            return default
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        self._invalid(name, value, "one of " + ", ".join(sorted(_TRUE | _FALSE)))
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() not in choices:
            self._invalid(name, value, "one of " + ", ".join(choices))
            return default
        return value.lower()

    def url_path(self, name: str, default: str) -> str:
        value = self.text(name, default)
        if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", value):
            self._invalid(name, value, "a path starting with /, without spaces or query")
            return default
        return value

    def check(self) -> None:
        """Raise one ConfigError naming every problem recorded so far."""
        if self.problems:
            raise ConfigError(self.problems)


def require(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of a required variable, or ConfigError right away."""
    reader = EnvReader(environ)
    value = reader.require(name)
    reader.check()
    return value


def fail_fast(
    load: Callable[[], T], stream: TextIO | None = None, exit_code: int = FAIL_FAST_EXIT_CODE
) -> T:
    """Return `load()`, or print one `error: ...` line and exit (2) on a setup error."""
    try:
        return load()
    except RuntimeSetupError as error:
        print(f"error: {error}", file=stream or sys.stderr, flush=True)
        raise SystemExit(exit_code) from None


def env_name(section: str, key: str) -> str:
    """The variable overriding `key` in `[section]`: upper-cased, non-alphanumerics as `_`."""
    return re.sub(r"[^A-Z0-9]", "_", f"{section}_{key}".upper())
