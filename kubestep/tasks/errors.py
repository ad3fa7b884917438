"""Turn kubestep's user errors into invoke's one-line failure, never a traceback."""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from invoke.exceptions import Exit

from kubestep.errors import KubestepError

P = ParamSpec("P")
R = TypeVar("R")


def one_line_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Report a KubestepError as `error: message` on stderr with exit status 1."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except KubestepError as error:
            raise Exit(f"error: {error}", code=1) from None

    return wrapper
