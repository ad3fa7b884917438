"""A name the code imports that a newer release removed caps that package's version."""

import os
from dataclasses import asdict
from pathlib import Path

import pytest

from kubestep.companion_pins import companion_bounds
from kubestep.errors import StepError
from kubestep.inventory import collect
from kubestep.migrate import migrate
from kubestep.removed_names import newest_python_with, stdlib_removals
from tests.legacy_repo import GIT_IDENTITY, legacy_copy, write_tree

VIEWS = (
    "from flask import Blueprint\n"
    "from flask_jwt_extended import jwt_required, jwt_optional\n"
    "import werkzeug.contrib.fixers\n"
    "from .models import User\n"
    "try:\n"
    "    from werkzeug.urls import url_parse\n"
    "except ImportError:\n"
    "    from urllib.parse import urlparse as url_parse\n"
    "from os.path import join\n"
)


def dependency(spec: str, name: str) -> dict[str, str]:
    return {"name": name, "spec": spec, "source": "requirements.txt:1", "scope": "runtime"}


def imported(*names: str) -> list[dict[str, str]]:
    return [{"value": name, "source": "conduit/views.py:2"} for name in names]


def test_the_inventory_keeps_outside_names_imported_without_a_fallback(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "conduit/__init__.py": "",
            "conduit/models.py": "class User:\n    pass\n",
            "conduit/views.py": VIEWS,
        },
    )
    names = [item.value for item in collect(tmp_path).imported_names]
    assert names == [
        "flask.Blueprint",
        "flask_jwt_extended.jwt_required",
        "flask_jwt_extended.jwt_optional",
        "werkzeug.contrib.fixers",
    ]
    first = collect(tmp_path).imported_names[2]
    assert first.source is not None and "conduit/views.py:2" in str(asdict(first)["source"])


def test_an_unpinned_package_is_capped_below_the_release_that_removed_the_name() -> None:
    bounds = companion_bounds(
        [dependency("Flask-JWT-Extended", "flask-jwt-extended")],
        imported("flask_jwt_extended.jwt_optional"),
    )
    assert bounds == [
        {
            "spec": "flask-jwt-extended<4.0",
            "why": "conduit/views.py:2 imports flask_jwt_extended.jwt_optional, "
            "which flask-jwt-extended 4.0 removed",
        }
    ]
    # A lower bound below the removal leaves the top open: the cap still applies.
    raised = companion_bounds(
        [dependency("Django>=2.1", "django")], imported("django.conf.urls.url")
    )
    assert [b["spec"] for b in raised] == ["django<4.0"]


def test_the_repos_own_pin_or_a_lower_bound_past_the_removal_keeps_its_word() -> None:
    for spec in (
        "Flask-JWT-Extended==3.25.1",
        "Flask-JWT-Extended<3.20",
        "flask-jwt-extended>=4.1",
    ):
        assert (
            companion_bounds(
                [dependency(spec, "flask-jwt-extended")],
                imported("flask_jwt_extended.jwt_optional"),
            )
            == []
        )
    assert companion_bounds([dependency("Flask", "flask")], imported("flask.Blueprint")) == []


def test_a_module_removal_covers_the_names_below_it_and_the_lowest_cap_wins() -> None:
    bounds = companion_bounds(
        [], imported("werkzeug.urls.url_parse", "werkzeug.contrib.fixers.ProxyFix")
    )
    assert [b["spec"] for b in bounds] == ["werkzeug<1.0"]
    assert "werkzeug.contrib.fixers.ProxyFix" in bounds[0]["why"]


def test_a_cap_on_an_old_package_brings_the_companions_its_old_releases_need() -> None:
    """flask.ext caps Flask below 1.0, and Flask 0.12 needs Werkzeug below 2 as a Flask==0.12
    pin would; the repo's own `Flask<2` reads the same way."""
    capped = companion_bounds([dependency("Flask", "flask")], imported("flask.ext.sqlalchemy"))
    assert [b["spec"] for b in capped] == [
        "flask<1.0",
        "werkzeug<2",
        "jinja2<3",
        "itsdangerous<2",
        "click<8",
        "markupsafe<2.1",
    ]
    own_cap = companion_bounds([dependency("Flask<2", "flask")])
    assert [b["spec"] for b in own_cap][:1] == ["werkzeug<2"]
    assert [b["spec"] for b in companion_bounds([dependency("Flask<2.1", "flask")])] == [
        "werkzeug<3"
    ]
    assert companion_bounds([dependency("Flask<4", "flask")]) == []


def test_the_dockerfile_installs_the_cap_and_the_step_says_why(tmp_path: Path) -> None:
    source = write_tree(
        tmp_path / "source",
        {
            "requirements.txt": "flask==2.2.5\nflask-jwt-extended\ngunicorn==23.0.0\n",
            "Procfile": "web: gunicorn conduit.app:app -b 0.0.0.0:$PORT\n",
            "conduit/__init__.py": "",
            "conduit/app.py": "from flask import Flask\n"
            "from flask_jwt_extended import jwt_optional\n\napp = Flask(__name__)\n",
        },
    )
    for name, value in GIT_IDENTITY.items():
        os.environ.setdefault(name, value)
    repo = legacy_copy(tmp_path / "conduit", source)
    lines: list[str] = []
    migrate(repo, "2", out=lines.append)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "'flask-jwt-extended<4.0'" in dockerfile
    assert any(
        "the image also installs flask-jwt-extended<4.0: conduit/app.py:2 imports "
        "flask_jwt_extended.jwt_optional" in line
        for line in lines
    )


def test_a_cap_one_rule_adds_brings_the_caps_of_the_old_releases_it_leaves() -> None:
    bounds = companion_bounds(
        [dependency("Flask", "flask"), dependency("Flask-Script", "flask-script")]
    )
    assert [b["spec"] for b in bounds] == [
        "flask<2",
        "werkzeug<2",
        "jinja2<3",
        "itsdangerous<2",
        "click<8",
        "markupsafe<2.1",
    ]


def test_a_name_gone_before_any_release_that_builds_on_3_11_stops_step_2(tmp_path: Path) -> None:
    """django.conf.urls.patterns left in Django 1.10 and Django builds on 3.11 from 2.1: no
    pin serves the code, so raising Django (the pin stop's advice) would not either."""
    source = write_tree(
        tmp_path / "source",
        {
            "requirements.txt": "Django==1.8.2\ngunicorn==23.0.0\n",
            "Procfile": "web: gunicorn site_app.wsgi -b 0.0.0.0:$PORT\n",
            "manage.py": "import os\n",
            "site_app/__init__.py": "",
            "site_app/wsgi.py": "from django.core.wsgi import get_wsgi_application\n\n"
            "application = get_wsgi_application()\n",
            "site_app/urls.py": "from django.conf.urls import patterns, include, url\n",
        },
    )
    for name, value in GIT_IDENTITY.items():
        os.environ.setdefault(name, value)
    repo = legacy_copy(tmp_path / "site", source)
    before = sorted(path.name for path in repo.iterdir())
    with pytest.raises(StepError) as stopped:
        migrate(repo, "2", out=lambda line: None)
    assert str(stopped.value).startswith(
        "the code needs a release older than Python 3.11 runs: site_app/urls.py:1 imports "
        "django.conf.urls.patterns, which django 1.10 removed, and none before 2.1 builds on "
        "Python 3.11; port those imports"
    )
    assert "\n" not in str(stopped.value)
    assert sorted(path.name for path in repo.iterdir()) == before


def test_a_template_that_loads_a_library_django_removed_caps_django(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "shop/templates/base.html": "<html>\n{% load i18n staticfiles %}\n"
            "<link href=\"{% static 'site.css' %}\">\n",
            "shop/templates/admin.html": "{% load admin_static %}{% load static %}\n",
        },
    )
    names = collect(tmp_path).imported_names
    assert sorted((item.value, item.source) for item in names) == [
        ("django.contrib.admin.templatetags.admin_static", "shop/templates/admin.html:1"),
        ("django.contrib.staticfiles.templatetags.staticfiles", "shop/templates/base.html:2"),
    ]
    bounds = companion_bounds(
        [dependency("Django>=2.1", "django")], [asdict(item) for item in names]
    )
    assert [b["spec"] for b in bounds] == ["django<3.0"]


def test_names_python_removed_stop_with_the_newest_python_that_has_them(tmp_path: Path) -> None:
    # Measured: a Pyramid app's `from cgi import escape` died at import on 3.11 (gone in 3.8).
    write_tree(
        tmp_path,
        {
            "requirements.txt": "pyramid==1.10.8\n",
            "trivia/views.py": "from cgi import escape\nimport imp\n",
            "setup.py": "from distutils.core import setup\n",
            "tests/test_views.py": "from collections import Sequence\n",
            "trivia/compat.py": (
                "try:\n    from collections.abc import Mapping\n"
                "except ImportError:\n    from collections import Mapping\n"
                "import sys\nif sys.version_info < (3, 3):\n    from collections import Iterable\n"
            ),
        },
    )
    names = collect(tmp_path).to_dict()["imported_names"]
    # The fallback and the version-tested branch are the code coping: not counted.
    values = [n["value"] for n in names]
    assert "collections.Mapping" not in values and "collections.Iterable" not in values
    assert stdlib_removals(names, "3.11") == [
        "trivia/views.py:1 imports cgi.escape, gone in Python 3.8"
    ]
    assert newest_python_with(names, "3.11") == "3.7"
    # `imp` went in 3.12; setup.py's distutils and the tests' Sequence are not the service's.
    assert stdlib_removals(names, "3.12") == [
        "trivia/views.py:1 imports cgi.escape, gone in Python 3.8",
        "trivia/views.py:2 imports imp, gone in Python 3.12",
    ]
    assert stdlib_removals(names, "3.7") == []


def test_a_name_python_removed_stops_step_2_naming_an_older_python(tmp_path: Path) -> None:
    source = write_tree(
        tmp_path / "source",
        {
            "requirements.txt": "flask==3.1.3\ngunicorn==23.0.0\n",
            "Procfile": "web: gunicorn quiz:app -b 0.0.0.0:$PORT\n",
            "quiz.py": "from cgi import escape\nfrom flask import Flask\n\napp = Flask(__name__)\n",
        },
    )
    for name, value in GIT_IDENTITY.items():
        os.environ.setdefault(name, value)
    repo = legacy_copy(tmp_path / "quiz", source)
    with pytest.raises(StepError) as stopped:
        migrate(repo, "2", out=lambda line: None)
    assert str(stopped.value) == (
        "the code needs a release older than Python 3.11 runs: quiz.py:1 imports cgi.escape, "
        "gone in Python 3.8; port those imports (the release notes name what replaced them), "
        "or answer with `inv migrate ... --set base_image=python:3.7-slim-bookworm` (an older "
        "Python)"
    )
