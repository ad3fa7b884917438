"""Does a key and its value look like a credential? One answer for the rules that keep
secrets out of ConfigMaps, for the inventory that never records their values and for the
templates that leave such keys empty."""

import math
import re
from collections import Counter
from typing import Any

_SECRET_KEY = re.compile(
    r"(^|[_.-])(PASSWORD|PASSWD|PASS|SECRET|TOKEN|KEY|APIKEY|CREDENTIALS?|PRIVATE)([_.-]|$)",
    re.IGNORECASE,
)
_SECRET_VALUE = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),  # scheme://user:password@host
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),  # JWT
]
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9+/=_-]{32,}$")
# `key = value` or `key: value` in an INI file, the shape legacy config files have.
_INI_ENTRY = re.compile(r"^\s*([^\s;#\[][^=:]*?)\s*[=:]\s*(.*?)\s*$")


def secret_key(key: str) -> bool:
    """Whether the key's name says it holds a secret (`password`, `API_TOKEN`, ...)."""
    return bool(_SECRET_KEY.search(str(key)))


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def secret_looking(key: str, value: str) -> str:
    """Why key=value looks like a credential, or ''."""
    if secret_key(key):
        return f"key {key!r} names a secret"
    if any(pattern.search(value) for pattern in _SECRET_VALUE):
        return f"the value of {key!r} looks like a credential"
    if _TOKEN_LIKE.match(value) and _entropy(value) > 4.2:
        return f"the value of {key!r} looks like a random token"
    return ""


def withheld(key: str, *values: Any) -> str:
    """Why no value of key may be recorded (its name, or one of its values, looks like a
    credential), or '' when they may. A secret key counts even without a value: its name is
    enough to know that the value belongs in a Secret, not in the repository."""
    if secret_key(key):
        return f"key {key!r} names a secret"
    for value in values:
        if isinstance(value, str) and (reason := secret_looking(key, value)):
            return reason
    return ""


def secrets_in_ini(name: str, text: str) -> list[str]:
    """Why entries of an INI file look like credentials: a secret key needs a value to count."""
    reasons = []
    for line in text.splitlines():
        entry = _INI_ENTRY.match(line)
        if entry and entry.group(2) and (reason := secret_looking(*entry.groups())):
            reasons.append(f"{name}: {reason}")
    return reasons
