"""Bounds for the unpinned companions of an old pin, so that today's resolver does not pair
them with releases that broke them.

A legacy requirements file that pins `Flask==2.0.3` but not Werkzeug builds today with
Werkzeug 3, which dropped what Flask 2.0 imports: the image builds, then the app dies at
import. Each rule below is a documented break between a package's old releases and a newer
major of a package it uses; the bound is added only where the repo itself says nothing about
the companion's version (a repo that pins or caps it keeps its word; a lower bound alone, as in
`Werkzeug>=0.15`, leaves the top open, so the bound still applies).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubestep.build_packages import pinned_version, version_after
from kubestep.removed_names import removal_caps


@dataclass(frozen=True)
class Rule:
    package: str
    # The rule holds for pins older than this; None: for every release so far, unpinned too
    # (the newest release still breaks with the companion's newest).
    below: tuple[int, ...] | None
    companion: str
    bound: str  # a PEP 440 specifier for the companion
    why: str


_FLASK_1 = "Flask 1.1.4, the last Flask 1, caps it so for Flask 1"
_COMPAT = "it imports marshmallow.compat, gone in marshmallow 3"
_IDENT = "it reads LocalStack.__ident_func__, which Werkzeug 2.1 removed"
_IDENT_FLASK = "it reads _app_ctx_stack.__ident_func__; Flask 2.2's stand-in stack has none"
# Where several rules bound one companion, the lowest cap wins.
RULES = (
    Rule("flask", (2, 0), "werkzeug", "<2", _FLASK_1),
    Rule("flask", (2, 0), "jinja2", "<3", _FLASK_1),
    Rule("flask", (2, 0), "itsdangerous", "<2", _FLASK_1),
    Rule("flask", (2, 0), "click", "<8", _FLASK_1),
    Rule("flask-sqlalchemy", (2, 5), "werkzeug", "<2.1", _IDENT),
    Rule("flask-sqlalchemy", (2, 5), "flask", "<2.2", _IDENT_FLASK),
    Rule("flask-sqlalchemy", (2, 5), "sqlalchemy", "<1.4", "SQLAlchemy 1.4 came with its 2.5"),
    Rule("flask", (2, 3), "werkzeug", "<3", "Werkzeug 3 removed url_quote, which it imports"),
    Rule("flask", (2, 0), "markupsafe", "<2.1", "its Jinja2 2 imports soft_unicode, gone in 2.1"),
    Rule("jinja2", (3, 0), "markupsafe", "<2.1", "it imports soft_unicode, gone in MarkupSafe 2.1"),
    Rule("flask-sqlalchemy", (3, 0), "sqlalchemy", "<2", "it predates SQLAlchemy 2's API"),
    Rule("flask-sqlalchemy", (3, 0), "flask", "<2.3", "it imports _app_ctx_stack, gone in 2.3"),
    Rule("flask-sqlalchemy", (3, 0), "werkzeug", "<3", "its Flask below 2.3 breaks on Werkzeug 3"),
    Rule("marshmallow-sqlalchemy", (0, 17), "marshmallow", "<3", _COMPAT),
    Rule("flask-marshmallow", (0, 11), "marshmallow", "<3", _COMPAT),
    Rule("flask-apispec", None, "marshmallow", "<4", "it reads marshmallow.__version__, gone in 4"),
    Rule("flask-cache", None, "werkzeug", "<1", "it imports werkzeug.import_string, gone in 1.0"),
    Rule("flask-script", None, "flask", "<2", "it imports flask._compat, gone in Flask 2.0"),
    # Measured: newspaper3k 0.2.8 (its last) died on `import lxml.html.clean` with lxml 5.3.
    Rule(
        "newspaper3k",
        None,
        "lxml",
        "<5.2",
        "it imports lxml.html.clean, which lxml 5.2 split out into lxml_html_clean",
    ),
)


def companion_bounds(
    dependencies: list[dict[str, Any]], imported_names: Iterable[dict[str, Any]] = ()
) -> list[dict[str, str]]:
    """[{spec, why}]: one bound per package that the code's imports or an old pin need and
    the repo leaves open."""
    runtime = _runtime(dependencies)
    bounds = {
        package: cap
        for package, cap in removal_caps(list(imported_names)).items()
        if package not in runtime
        or not _decides(runtime[package].get("spec", ""), cap["spec"].removeprefix(package))
    }
    while _apply_rules(runtime, bounds):
        pass  # a cap a rule adds (Flask-Script's Flask<2) may bring the old package's own
    return list(bounds.values())


def _runtime(dependencies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d.get("name", ""): d for d in dependencies if d.get("scope", "runtime") == "runtime"}


def _apply_rules(runtime: dict[str, dict[str, Any]], bounds: dict[str, dict[str, str]]) -> bool:
    """One pass over RULES; whether it tightened a bound (each pass can only tighten)."""
    changed = False
    for rule in RULES:
        old = runtime.get(rule.package)
        if old is None or not _tighter(rule.bound, bounds.get(rule.companion)):
            continue
        if rule.below is not None and not _older(
            old.get("spec", ""), bounds.get(rule.package), rule.below
        ):
            continue
        companion = runtime.get(rule.companion)
        if companion is not None and _decides(companion.get("spec", ""), rule.bound):
            continue  # the repo says which version it wants
        bounds[rule.companion] = {
            "spec": f"{rule.companion}{rule.bound}",
            "why": f"{old.get('spec')} ({old.get('source')}): {rule.why}",
        }
        changed = True
    return changed


def _older(spec: str, cap: dict[str, str] | None, release: tuple[int, ...]) -> bool:
    """Whether every version the repo can install is older than release: a pin below it, or
    a cap at or below it (the repo's own `Flask<1`, or a removal's)."""
    pinned = pinned_version(spec)
    if pinned is not None:
        return pinned < release
    caps = [version_after(text, "<") for text in (spec, cap["spec"] if cap else "")]
    return any(version is not None and version <= release for version in caps)


def _tighter(bound: str, kept: dict[str, str] | None) -> bool:
    """Two old pins may bound one companion (Flask 0.10: Werkzeug < 2; Flask-Cache: < 1):
    the lower cap serves both."""
    if kept is None:
        return True
    new, old = version_after(bound, "<=?"), version_after(kept["spec"], "<=?")
    return new is not None and old is not None and new < old


def _decides(spec: str, bound: str) -> bool:
    """The repo's own specifier settles the companion: an exact pin or a cap, or a lower bound
    at or above the bound's (adding the bound would leave nothing to install)."""
    if any(operator in spec for operator in ("==", "~=", "<")):
        return True
    lower, below = version_after(spec, ">=?"), version_after(bound, "<=?")
    return lower is not None and below is not None and lower >= below


def installed_check(dependencies: list[dict[str, Any]]) -> str:
    """A one-line program for the venv's python that prints the bound of each companion a rule
    needs for the versions pip really installed, or nothing.

    The bounds above follow the repo's pins; pip's resolver may still pick an old release the
    repo never named (Flask-JWT-Extended 3 brings Flask 1.1.4, whose Jinja2 2 breaks on
    MarkupSafe 2.1): so the build checks what it got and installs those bounds too. Only
    rules about what the repo installs (a dependency, or a companion of one: Flask brings
    Jinja2) and companions it leaves open are checked."""
    runtime = _runtime(dependencies)
    reached = set(runtime)
    while grown := {r.companion for r in RULES if r.package in reached} - reached:
        reached |= grown
    rules = sorted(
        {
            (rule.package, rule.below, rule.companion, cap)
            for rule in RULES
            if rule.below is not None
            and rule.package in reached
            and (cap := version_after(rule.bound, "<")) is not None
            and not (
                rule.companion in runtime
                and _decides(runtime[rule.companion].get("spec", ""), rule.bound)
            )
        }
    )
    if not rules:
        return ""
    table = repr(rules).replace("'", '"').replace(" ", "")
    return (
        "import importlib.metadata as m,re;"
        'd={x.metadata["Name"].lower().replace("_","-"):'
        r'tuple(map(int,re.findall(r"\d+",x.version)[:3])) for x in m.distributions()};'
        f"R={table};"
        'print("\\n".join(sorted({c+"<"+".".join(map(str,b)) for p,l,c,b in R '
        'if p in d and d[p]<l and d.get(c,())>=b})),end="")'
    )
