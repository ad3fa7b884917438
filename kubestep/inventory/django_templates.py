"""Django template libraries that templates load by name and a release removed.

`{% load staticfiles %}` imports django.contrib.staticfiles.templatetags.staticfiles, gone in
Django 3.0: the page dies at render, not at import, so no Python import shows it. Each load of
a library Django moved is recorded as the module it imports, beside the code's own imports,
where the removed-names table caps Django (kubestep/removed_names.py).
"""

from __future__ import annotations

import re

from kubestep.inventory.model import Evidence, Inventory
from kubestep.inventory.tree import SourceTree, at

# Library name -> the module `{% load %}` imported, for the libraries a release removed.
_MOVED = {
    "staticfiles": "django.contrib.staticfiles.templatetags.staticfiles",
    "admin_static": "django.contrib.admin.templatetags.admin_static",
}
_LOAD = re.compile(r"{%\s*load\s+([\w\s]+?)\s*%}")


def read(tree: SourceTree, found: Inventory) -> Inventory:
    result = Inventory()
    seen: set[str] = set()
    for rel in tree.matching("*.html", "*.txt", "*.xml"):
        text = tree.text(rel) or ""
        for match in _LOAD.finditer(text):
            for library in match.group(1).split():
                module = _MOVED.get(library)
                if module and module not in seen:
                    seen.add(module)
                    line = text.count("\n", 0, match.start()) + 1
                    result.imported_names.append(Evidence(value=module, source=at(rel, line)))
    return result
