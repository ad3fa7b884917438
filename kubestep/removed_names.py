"""Caps for packages whose newer releases removed a name the code imports.

A legacy requirements file that leaves `Flask-JWT-Extended` unpinned builds today with 4.x;
`from flask_jwt_extended import jwt_optional` then kills the app at import, although the image
built. Each entry below is a documented removal; the cap is added only where the repo itself
says nothing about the package's version (an exact pin or a cap keeps the repo's word) and only
for imports without an ImportError fallback (the inventory leaves those out).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kubestep.build_packages import INCOMPATIBLE


@dataclass(frozen=True)
class Removal:
    name: str  # dotted, as imported; a module also covers every name below it
    package: str
    release: str  # the first release without it: the cap is `<release`


_REMOVALS = (
    Removal("django.conf.urls.patterns", "django", "1.10"),
    Removal("django.core.urlresolvers", "django", "2.0"),
    Removal("django.conf.urls.url", "django", "4.0"),
    Removal("django.utils.encoding.force_text", "django", "4.0"),
    Removal("django.utils.encoding.smart_text", "django", "4.0"),
    Removal("django.utils.translation.ugettext", "django", "4.0"),
    Removal("django.utils.translation.ugettext_lazy", "django", "4.0"),
    Removal("django.utils.translation.ungettext", "django", "4.0"),
    Removal("django.utils.translation.ungettext_lazy", "django", "4.0"),
    Removal("django.utils.http.urlquote", "django", "4.0"),
    Removal("django.db.models.permalink", "django", "2.1"),
    Removal("django.utils.six", "django", "3.0"),
    Removal("django.contrib.staticfiles.templatetags", "django", "3.0"),
    Removal("django.contrib.admin.templatetags.admin_static", "django", "3.0"),
    Removal("django.shortcuts.render_to_response", "django", "3.0"),
    Removal("django.utils.decorators.available_attrs", "django", "3.0"),
    Removal("django.utils.functional.curry", "django", "3.0"),
    Removal("django.contrib.postgres.fields.JSONField", "django", "4.0"),
    Removal("django.utils.encoding.python_2_unicode_compatible", "django", "3.0"),
    Removal("flask.ext", "flask", "1.0"),
    Removal("flask._compat", "flask", "2.0"),
    Removal("flask._request_ctx_stack", "flask", "3.0"),
    Removal("flask._app_ctx_stack", "flask", "3.0"),
    Removal("flask.json.JSONEncoder", "flask", "3.0"),
    Removal("flask.Markup", "flask", "3.0"),
    Removal("flask.escape", "flask", "3.0"),
    Removal("werkzeug.secure_filename", "werkzeug", "1.0"),
    Removal("werkzeug.cached_property", "werkzeug", "1.0"),
    Removal("werkzeug.contrib", "werkzeug", "1.0"),
    Removal("werkzeug.wrappers.json", "werkzeug", "2.1"),
    Removal("werkzeug.urls.url_parse", "werkzeug", "3.0"),
    Removal("werkzeug.urls.url_quote", "werkzeug", "3.0"),
    Removal("werkzeug.urls.url_encode", "werkzeug", "3.0"),
    Removal("werkzeug.urls.url_decode", "werkzeug", "3.0"),
    Removal("jinja2.Markup", "jinja2", "3.1"),
    Removal("jinja2.escape", "jinja2", "3.1"),
    Removal("jinja2.contextfunction", "jinja2", "3.1"),
    Removal("jinja2.contextfilter", "jinja2", "3.1"),
    Removal("jinja2.environmentfilter", "jinja2", "3.1"),
    Removal("markupsafe.soft_unicode", "markupsafe", "2.1"),
    Removal("itsdangerous.TimedJSONWebSignatureSerializer", "itsdangerous", "2.1"),
    Removal("itsdangerous.JSONWebSignatureSerializer", "itsdangerous", "2.1"),
    Removal("flask_wtf.Form", "flask-wtf", "1.0"),
    Removal("wtforms.fields.html5", "wtforms", "3.0"),
    Removal("wtforms.ext", "wtforms", "3.0"),
    Removal("wtforms.compat", "wtforms", "3.0"),
    Removal("flask_jwt_extended.jwt_optional", "flask-jwt-extended", "4.0"),
    Removal("flask_jwt_extended.jwt_refresh_token_required", "flask-jwt-extended", "4.0"),
    Removal("flask_jwt_extended.fresh_jwt_required", "flask-jwt-extended", "4.0"),
    Removal("flask_jwt_extended.get_raw_jwt", "flask-jwt-extended", "4.0"),
    Removal("celery.task", "celery", "5.0"),
    Removal("celery.decorators", "celery", "4.0"),
    Removal("pydantic.BaseSettings", "pydantic", "2.0"),
)


# Names Python itself removed, with the first Python without them: no pin brings them back.
_ABCS = (
    *("Mapping", "MutableMapping", "Sequence", "MutableSequence", "Iterable", "Iterator"),
    *("Callable", "Set", "MutableSet", "Hashable", "Sized", "Container", "Generator"),
)
_STDLIB_REMOVALS = (
    Removal("os.errno", "python", "3.7"),
    Removal("cgi.escape", "python", "3.8"),
    Removal("time.clock", "python", "3.8"),
    Removal("platform.linux_distribution", "python", "3.8"),
    Removal("platform.dist", "python", "3.8"),
    Removal("base64.encodestring", "python", "3.9"),
    Removal("base64.decodestring", "python", "3.9"),
    Removal("fractions.gcd", "python", "3.9"),
    Removal("xml.etree.cElementTree", "python", "3.9"),
    *(Removal(f"collections.{name}", "python", "3.10") for name in _ABCS),
    Removal("inspect.getargspec", "python", "3.11"),
    *(Removal(module, "python", "3.12") for module in ("imp", "distutils", "asyncore")),
    *(Removal(module, "python", "3.12") for module in ("asynchat", "smtpd")),
    *(Removal(module, "python", "3.13") for module in ("cgi", "cgitb", "imghdr", "pipes")),
    *(Removal(module, "python", "3.13") for module in ("telnetlib", "crypt", "uu", "xdrlib")),
)
# The standard library's names the inventory keeps among the code's imports.
STDLIB_REMOVED = frozenset(removal.name for removal in _STDLIB_REMOVALS)


# Files the service does not run: pip runs setup.py (setuptools brings its own distutils),
# and the tests, docs and a fabfile run on a developer's machine.
_NOT_RUN = re.compile(r"^(setup\.py|fabfile|conftest\.py|docs?/|tests?/)|(^|/)test_[^/]*\.py:")


def stdlib_removals(imported_names: list[dict[str, Any]], python: str) -> list[str]:
    """Names the service's code imports that Python removed at or before the image's Python,
    each with where it is: the code must change, or the image's Python be older."""
    return [
        f"{item.get('source')} imports {item.get('value')}, gone in Python {removal.release}"
        for item, removal in _gone_by(imported_names, python)
    ]


def newest_python_with(imported_names: list[dict[str, Any]], python: str) -> str:
    """The newest Python before the first that removed one of those names ("" if none)."""
    releases = [_release(removal) for _, removal in _gone_by(imported_names, python)]
    if not releases:
        return ""
    major, minor = min(releases)[:2]
    return f"{major}.{minor - 1}"


def _gone_by(
    imported_names: list[dict[str, Any]], python: str
) -> Iterator[tuple[dict[str, Any], Removal]]:
    """The service's imports of names Python removed at or before python (X.Y)."""
    version = tuple(int(part) for part in python.split(".")[:2])
    for item, removal in _removed(_run(imported_names), _STDLIB_REMOVALS):
        if _release(removal) <= version:
            yield item, removal


def _run(imported_names: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in imported_names if not _NOT_RUN.search(str(item.get("source", "")))]


def removal_caps(imported_names: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """{package: {spec, why}}: the lowest cap each package needs for the names the code
    imports; the caller drops those the repo's own specifier settles."""
    caps: dict[str, tuple[tuple[int, ...], dict[str, str]]] = {}
    for item, removal in _removed(imported_names):
        release = _release(removal)
        if removal.package in caps and caps[removal.package][0] <= release:
            continue
        caps[removal.package] = (
            release,
            {"spec": f"{removal.package}<{removal.release}", "why": _why(item, removal)},
        )
    return {package: bound for package, (_, bound) in caps.items()}


def unbuildable_removals(imported_names: list[dict[str, Any]]) -> list[str]:
    """Names the code imports that their package removed before its first release that builds
    on Python 3.11 (django.conf.urls.patterns: Django 1.10; Django builds from 2.1): no pin
    serves both, the code must change or the Python must be older."""
    found = []
    for item, removal in _removed(imported_names):
        first = (INCOMPATIBLE.get(removal.package) or (None, ""))[0]
        if first is not None and _release(removal) <= first:
            since = ".".join(map(str, first))
            found.append(f"{_why(item, removal)}, and none before {since} builds on Python 3.11")
    return found


def _removed(
    imported_names: list[dict[str, Any]], table: tuple[Removal, ...] = _REMOVALS
) -> Iterator[tuple[dict[str, Any], Removal]]:
    for item in imported_names:
        name = str(item.get("value", ""))
        for removal in table:
            if name == removal.name or name.startswith(removal.name + "."):
                yield item, removal


def _release(removal: Removal) -> tuple[int, ...]:
    return tuple(int(part) for part in removal.release.split("."))


def _why(item: dict[str, Any], removal: Removal) -> str:
    name = item.get("value")
    return f"{item.get('source')} imports {name}, which {removal.package} {removal.release} removed"
