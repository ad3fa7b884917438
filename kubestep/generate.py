"""Render kubestep's copier template: a new service, or one migration step's files."""

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

import copier
from copier.errors import DirtyLocalWarning, ShallowCloneWarning, TaskError

from kubestep.errors import InvalidValue, StepError
from kubestep.paths import REPO

_VALIDATION_PREFIX = "Validation error for question "
# The template is kubestep's own checkout, so the ref is the one this kubestep is: HEAD, with
# its uncommitted changes. Left unset, copier looks for the newest git tag, and without one
# prints "No git tags found in template; using HEAD as ref" on every render.
TEMPLATE_REF = "HEAD"
# Copier's warnings about that checkout (uncommitted changes while developing kubestep, a
# shallow clone in CI) are not something a user of kubestep can act on.
_TEMPLATE_CHECKOUT_WARNINGS = (DirtyLocalWarning, ShallowCloneWarning)


def render(destination: Path, answers: dict[str, Any], *, template: Path = REPO) -> Path:
    """Copy the template into destination with these answers, asking nothing.

    A rejected answer becomes InvalidValue with copier's message (which quotes the value
    and says what is allowed); the destination is left untouched in that case.
    """
    # copier's failures are exceptions, turned into one-line errors below; what it prints on
    # stderr besides is nothing a user can act on.
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        for category in _TEMPLATE_CHECKOUT_WARNINGS:
            warnings.simplefilter("ignore", category)
        try:
            copier.run_copy(
                str(template),
                str(destination),
                vcs_ref=TEMPLATE_REF,
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
