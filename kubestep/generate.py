"""Render kubestep's copier template: a new service, or one migration step's files."""

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

import copier
from copier.errors import TaskError

from kubestep.errors import InvalidValue, StepError
from kubestep.paths import REPO

_VALIDATION_PREFIX = "Validation error for question "


def render(destination: Path, answers: dict[str, Any], *, template: Path = REPO) -> Path:
    """Copy the template into destination with these answers, asking nothing.

    A rejected answer becomes InvalidValue with copier's message (which quotes the value
    and says what is allowed); the destination is left untouched in that case.
    """
    # copier prints notes on stderr even when quiet (a template without tags); its failures
    # are exceptions, turned into one-line errors below.
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        # A template checkout with uncommitted changes is normal while developing kubestep.
        warnings.simplefilter("ignore")
        try:
            copier.run_copy(
                str(template),
                str(destination),
                data=answers,
                defaults=True,
                unsafe=True,
                quiet=True,
                overwrite=True,
            )
        except TaskError as error:
            raise StepError(f"kubestep's template failed to render: {error}") from None
        except ValueError as error:
            message = str(error)
            if message.startswith(_VALIDATION_PREFIX):
                raise InvalidValue(message.split(": ", 1)[1]) from None
            raise
    return destination


def new_service(destination: Path, answers: dict[str, Any]) -> Path:
    """Generate a new service repository; refuse a destination that already has files."""
    if destination.exists() and not destination.is_dir():
        raise InvalidValue(f"{str(destination)!r} is a file: choose a new directory")
    if destination.exists() and any(destination.iterdir()):
        raise InvalidValue(f"{str(destination)!r} is not empty: choose a new directory")
    return render(destination, {**answers, "origin": "new"})
