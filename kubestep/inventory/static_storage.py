"""Django settings whose pages need `collectstatic` to have run: a manifest storage.

With `ManifestStaticFilesStorage` (whitenoise's `CompressedManifestStaticFilesStorage`, or
django-heroku's `django_heroku.settings(locals())`, which sets it), `{% static %}` looks every
file up in the manifest collectstatic writes, and a page renders a 500 without it. Heroku's
Python buildpack runs collectstatic at every build, so a Heroku app never says so; each such
setting is recorded as the manage.py that runs its project, for the image build to collect
with (kubestep/decide_static.py).
"""

from __future__ import annotations

import posixpath
import re

from kubestep.inventory.model import Evidence, Inventory
from kubestep.inventory.tree import SourceTree, at

_MANIFEST = re.compile(
    r"^(?!\s*class\s)[^#\n]*?(?P<name>\b\w*ManifestStaticFilesStorage\b|\bdjango_heroku\.settings\s*\()",
    re.M,
)


def read(tree: SourceTree, found: Inventory) -> Inventory:
    """Each manifest setting as the manage.py that runs its project, with where it is set."""
    result = Inventory()
    for rel in tree.python_files():
        text = tree.text(rel) or ""
        match = _MANIFEST.search(text)
        if match is None:
            continue
        where = at(rel, text.count("\n", 0, match.start("name")) + 1)
        manage = _manage_py_for(tree.matching("manage.py"), rel)
        if manage is None:
            result.warn(where, "a manifest static storage, but no manage.py above it to collect")
            continue
        result.collected_static.append(Evidence(value=manage, source=where))
    return result


def _manage_py_for(candidates: list[str], settings_file: str) -> str | None:
    """The manage.py of the project that holds settings_file: the nearest one above it."""
    above = [
        f
        for f in candidates
        if posixpath.dirname(f) == "" or settings_file.startswith(posixpath.dirname(f) + "/")
    ]
    return max(above, key=len) if above else None
