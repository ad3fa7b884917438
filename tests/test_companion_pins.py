"""Old pins keep working when today's resolver would pair them with releases that broke them."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubestep.companion_pins import companion_bounds, installed_check
from kubestep.errors import StepError
from kubestep.migrate import migrate
from tests.legacy_repo import GIT_IDENTITY, legacy_copy

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def dependency(spec: str, name: str, scope: str = "runtime") -> dict[str, str]:
    return {"name": name, "spec": spec, "source": "requirements.txt:1", "scope": scope}


def greeter_requiring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requirements: str) -> Path:
    """The Procfile greeter fixture, as a legacy repo, with these requirements."""
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "source"
    shutil.copytree(FIXTURES / "flask-procfile", source)
    (source / "requirements.txt").write_text(requirements)
    return legacy_copy(tmp_path / "greeter", source)


def test_flask_2_0_gets_a_werkzeug_below_3() -> None:
    bounds = companion_bounds([dependency("Flask==2.0.3", "flask")])
    assert [b["spec"] for b in bounds] == ["werkzeug<3"]
    assert "Flask==2.0.3 (requirements.txt:1): Werkzeug 3 removed url_quote" in bounds[0]["why"]


def test_flask_1_gets_its_last_releases_caps() -> None:
    bounds = companion_bounds([dependency("flask==1.0.2", "flask")])
    assert [b["spec"] for b in bounds] == [
        "werkzeug<2",
        "jinja2<3",
        "itsdangerous<2",
        "click<8",
        "markupsafe<2.1",
    ]


def test_a_companion_the_repo_pins_keeps_its_pin() -> None:
    bounds = companion_bounds(
        [dependency("Flask==2.0.3", "flask"), dependency("Werkzeug==2.0.3", "werkzeug")]
    )
    assert bounds == []
    # A bare name says nothing about the version: the bound still applies.
    bare = companion_bounds(
        [dependency("Flask==2.0.3", "flask"), dependency("werkzeug", "werkzeug")]
    )
    assert [b["spec"] for b in bare] == ["werkzeug<3"]


def test_recent_or_unpinned_or_dev_only_pins_need_nothing() -> None:
    assert companion_bounds([dependency("flask==3.0.3", "flask")]) == []
    assert companion_bounds([dependency("flask", "flask")]) == []
    assert companion_bounds([dependency("flask==1.0", "flask", scope="dev")]) == []
    assert [
        b["spec"]
        for b in companion_bounds([dependency("Flask-SQLAlchemy==2.5.1", "flask-sqlalchemy")])
    ] == ["sqlalchemy<2", "flask<2.3", "werkzeug<3"]


def test_the_dockerfile_installs_the_bound_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = greeter_requiring(tmp_path, monkeypatch, "flask==2.0.3\ngunicorn==23.0.0\n")
    lines: list[str] = []
    migrate(repo, "2", out=lines.append)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "--requirement /tmp/requirements/requirements.txt \\\n       'werkzeug<3'" in dockerfile
    assert "# werkzeug<3: flask==2.0.3 (requirements.txt:1): Werkzeug 3 removed" in dockerfile
    assert any("the image also installs werkzeug<3" in line for line in lines)


def test_a_2014_flask_stack_names_each_pin_that_cannot_import_on_python_3_11() -> None:
    from kubestep.build_packages import incompatible_pins

    pins = [
        {"name": name, "spec": spec, "source": f"requirements.txt:{line}", "scope": "runtime"}
        for line, (name, spec) in enumerate(
            [
                ("flask", "Flask==0.10.1"),
                ("jinja2", "Jinja2==2.7.3"),
                ("werkzeug", "Werkzeug==0.9.6"),
                ("markupsafe", "MarkupSafe==0.23"),
            ],
            start=1,
        )
    ]
    assert incompatible_pins(pins) == [
        "Jinja2==2.7.3 (requirements.txt:2): before 2.11 it imports UserDict or ABCs from "
        "collections, gone in 3.10; raise it to >=2.11",
        "Werkzeug==0.9.6 (requirements.txt:3): before 0.15 it imports ABCs from collections, "
        "gone in 3.10; raise it to >=0.15",
        # Measured: MarkupSafe 0.23 installs, then Jinja2 dies importing it.
        "MarkupSafe==0.23 (requirements.txt:4): before 1.0 it imports Mapping from collections, "
        "gone in 3.10, and 1.0's setup.py needs setuptools.Feature, gone since setuptools 46; "
        "raise it to >=1.1",
    ]


def test_a_raised_lower_bound_leaves_the_top_open_so_the_bound_still_applies() -> None:
    # The pins raised as kubestep asked (Jinja2>=2.11, Werkzeug>=0.15) beside Flask 0.10.
    raised = [
        dependency("Flask==0.10.1", "flask"),
        dependency("Jinja2>=2.11", "jinja2"),
        dependency("Werkzeug>=0.15", "werkzeug"),
    ]
    assert [b["spec"] for b in companion_bounds(raised)][:2] == ["werkzeug<2", "jinja2<3"]
    # A lower bound above the bound is the repo's word: adding the bound would leave nothing.
    newer = [dependency("Flask==1.1.4", "flask"), dependency("Werkzeug>=2.0", "werkzeug")]
    assert "werkzeug<2" not in [b["spec"] for b in companion_bounds(newer)]


def test_flask_sqlalchemy_before_2_5_gets_the_stack_it_reads() -> None:
    # Measured on a real app: Flask-SQLAlchemy 2.2 with Flask 2.2 dies on __ident_func__.
    bounds = companion_bounds(
        [dependency("Flask_SQLAlchemy==2.2", "flask-sqlalchemy"), dependency("Flask", "flask")]
    )
    assert [b["spec"] for b in bounds] == ["werkzeug<2.1", "flask<2.2", "sqlalchemy<1.4"]
    assert "__ident_func__" in bounds[0]["why"]


def test_two_pins_that_bound_one_companion_get_the_lower_cap() -> None:
    # Measured on a real app: Flask 0.10 allows Werkzeug 1, Flask-Cache dies on it.
    bounds = companion_bounds(
        [dependency("Flask==0.10.1", "flask"), dependency("Flask-Cache==0.13.1", "flask-cache")]
    )
    werkzeug = [b for b in bounds if b["spec"].startswith("werkzeug")]
    assert [b["spec"] for b in werkzeug] == ["werkzeug<1"]
    assert "Flask-Cache==0.13.1" in werkzeug[0]["why"]
    assert next(b["spec"] for b in bounds) == "werkzeug<1"  # in the place of the first bound


def test_marshmallow_2_extensions_keep_marshmallow_2() -> None:
    # Measured on a real app: marshmallow-sqlalchemy 0.5 dies on `marshmallow.compat`.
    old = [
        dependency("flask-marshmallow==0.6.2", "flask-marshmallow"),
        dependency("marshmallow-sqlalchemy==0.5.0", "marshmallow-sqlalchemy"),
    ]
    assert [b["spec"] for b in companion_bounds(old)] == ["marshmallow<3"]
    recent = [dependency("marshmallow-sqlalchemy==1.1.0", "marshmallow-sqlalchemy")]
    assert companion_bounds(recent) == []


def test_a_package_whose_newest_release_still_breaks_is_bounded_unpinned_too() -> None:
    bounds = companion_bounds([dependency("flask_apispec", "flask-apispec")])
    assert [b["spec"] for b in bounds] == ["marshmallow<4"]
    pinned = [
        dependency("flask_apispec", "flask-apispec"),
        dependency("marshmallow<5", "marshmallow"),
    ]
    assert companion_bounds(pinned) == []
    # newspaper3k's last release imports lxml.html.clean, which lxml 5.2 split out.
    news = companion_bounds([dependency("newspaper3k==0.2.8", "newspaper3k")])
    assert [b["spec"] for b in news] == ["lxml<5.2"]


def test_a_2017_django_stack_names_django_and_pytz() -> None:
    from kubestep.build_packages import incompatible_pins

    # Measured on a real app: pytz 2017.2 and Django 1.11 die importing Mapping on 3.11.
    pins = [
        {"name": "django", "spec": "Django~=1.11.5", "source": "requirements.txt:1"},
        {"name": "pytz", "spec": "pytz==2017.2", "source": "requirements.txt:2"},
        {"name": "django", "spec": "Django==2.2.28", "source": "other.txt:1"},
        {"name": "pytz", "spec": "pytz", "source": "other.txt:2"},
    ]
    found = incompatible_pins(pins)
    assert [line.split(" (")[0] for line in found] == ["Django~=1.11.5", "pytz==2017.2"]
    # Measured: Flask 0.9's setup.py has a print statement; 0.10 is the first for Python 3.
    flask = [
        {"name": "flask", "spec": spec, "source": "r.txt:1"}
        for spec in ("Flask==0.9", "Flask==0.10.1")
    ]
    assert [line.split(" (")[0] for line in incompatible_pins(flask)] == ["Flask==0.9"]
    # Measured: httptools 0.1.1 fails on `longintrepr.h: No such file or directory`.
    old_asgi = [{"name": "httptools", "spec": "httptools==0.1.1", "source": "r.txt:1"}]
    assert incompatible_pins(old_asgi)[0].endswith("raise it to >=0.5")
    # uvicorn before 0.12 requires httptools 0.1.*: raising httptools alone cannot resolve.
    old_server = [{"name": "uvicorn", "spec": "uvicorn==0.11.8", "source": "r.txt:60"}]
    assert incompatible_pins(old_server)[0].startswith("uvicorn==0.11.8 (r.txt:60): before 0.12")
    assert incompatible_pins(old_server)[0].endswith("raise it to >=0.12")
    twisted = [{"name": "twisted", "spec": "Twisted==20.3.0", "source": "r.txt:57"}]
    assert incompatible_pins(twisted)[0].endswith("raise it to >=21.2")
    aiohttp = [{"name": "aiohttp", "spec": "aiohttp==2.0.5", "source": "r.txt:1"}]
    assert incompatible_pins(aiohttp)[0].endswith("raise it to >=3.8.3")
    assert found[0].endswith("raise it to >=2.1") and found[1].endswith("raise it to >=2018.4")
    # Measured: a huey worker importing requests 2.18.4 died on urllib3 1.22's selectors.py.
    http = [
        {"name": "requests", "spec": "requests~=2.18.4", "source": "r.txt:10"},
        {"name": "urllib3", "spec": "urllib3==1.22", "source": "r.txt:11"},
        {"name": "requests", "spec": "requests==2.19.1", "source": "other.txt:1"},
        {"name": "graphene", "spec": "graphene==2.1.8", "source": "r.txt:12"},
        {"name": "graphene", "spec": "graphene==2.1.9", "source": "other.txt:2"},
    ]
    assert [line.split(": ")[0] for line in incompatible_pins(http)] == [
        "requests~=2.18.4 (r.txt:10)",
        "urllib3==1.22 (r.txt:11)",
        "graphene==2.1.8 (r.txt:12)",
    ]


def fake_site(root: Path, installed: dict[str, str]) -> Path:
    """A site-packages with only the .dist-info metadata of these distributions."""
    for name, version in installed.items():
        info = root / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return root


def run_check(program: str, site: Path) -> str:
    return subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path[:0] = [{str(site)!r}]; {program}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_build_checks_what_pip_installed_against_the_same_rules(tmp_path: Path) -> None:
    """Flask-JWT-Extended 3 brings Flask 1.1.4 to a repo that never pinned Flask: the rules
    hold for that release, so its Jinja2 2 gets MarkupSafe below 2.1."""
    program = installed_check([dependency("flask", "flask")])
    old = fake_site(
        tmp_path / "old",
        {"Flask": "1.1.4", "Jinja2": "2.11.3", "MarkupSafe": "3.0.2", "Werkzeug": "1.0.1"},
    )
    assert run_check(program, old) == "markupsafe<2.1"
    new = fake_site(tmp_path / "new", {"Flask": "3.1.0", "MarkupSafe": "3.0.2"})
    assert run_check(program, new) == ""
    # A companion the repo pins keeps its pin: the check leaves it out.
    pinned = installed_check(
        [dependency("flask", "flask"), dependency("MarkupSafe==3.0.2", "markupsafe")]
    )
    assert "markupsafe" not in pinned and run_check(pinned, old) == ""


def test_a_repo_that_installs_none_of_the_rules_packages_gets_no_check() -> None:
    assert installed_check([dependency("Django==4.2.16", "django")]) == ""
    # Flask brings Jinja2: its rule is checked too.
    assert '("jinja2",(3,0),"markupsafe",(2,1))' in installed_check([dependency("flask", "flask")])


def test_the_pin_stop_names_every_pin_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Measured: a 2017 stack with seven old pins took a user four rounds of two.
    repo = greeter_requiring(
        tmp_path,
        monkeypatch,
        "flask==2.0.3\ngunicorn==19.7.1\npsycopg2==2.7.1\nPyYAML==3.12\nSQLAlchemy==1.1.8\n",
    )
    with pytest.raises(StepError) as stopped:
        migrate(repo, "2", out=lambda line: None)
    message = str(stopped.value)
    for pin in ("gunicorn==19.7.1", "psycopg2==2.7.1", "PyYAML==3.12", "SQLAlchemy==1.1.8"):
        assert f"{pin} (requirements.txt:" in message
    assert "\n" not in message
