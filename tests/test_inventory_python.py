"""Python packaging and code readers: dependencies, framework, app object, settings."""

from pathlib import Path

from kubestep.inventory import collect

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def test_requirements_with_options_markers_and_editables() -> None:
    inventory = collect(FIXTURES / "procfile-app")
    names = [item.name for item in inventory.dependencies]
    assert names == ["flask", "pymemcache", "shop-lib"]
    assert inventory.dependencies[0].source == "requirements.txt:3"
    assert inventory.framework is not None and inventory.framework.value == "flask"
    assert inventory.python_version is not None and inventory.python_version.value == "3.11.9"
    assert any(w.source == "requirements.txt:7" for w in inventory.warnings)


def test_pyproject_dependencies_and_extras_are_scoped() -> None:
    inventory = collect(FIXTURES / "fastapi-app")
    scopes = {item.name: item.scope for item in inventory.dependencies}
    assert scopes == {
        "fastapi": "runtime",
        "uvicorn": "runtime",
        "redis": "runtime",
        "pytest": "dev",
    }
    assert inventory.framework is not None and inventory.framework.value == "fastapi"
    assert inventory.framework.source == "pyproject.toml:6"


def test_django_app_object_and_settings_come_from_code() -> None:
    inventory = collect(FIXTURES / "django_app")
    entry = inventory.entrypoint
    assert inventory.framework is not None and inventory.framework.value == "django"
    assert entry.app is not None and entry.app.value == "mysite.wsgi:application"
    assert entry.app.kind == "wsgi" and entry.app.source == "mysite/wsgi.py:7"
    assert entry.settings is not None and entry.settings.value == "mysite.settings"
    env = {item.name: item.default for item in inventory.config.env_vars}
    assert env["DJANGO_SECRET_KEY"] is None and env["DJANGO_DEBUG"] == "0"


def test_plain_wsgi_callable_is_the_framework() -> None:
    inventory = collect(FIXTURES / "wsgi-app")
    assert inventory.framework is not None and inventory.framework.value == "wsgi"
    assert inventory.framework.source == "hello.py:1"


def test_broken_python_and_toml_are_warnings(tmp_path: Path) -> None:
    # Written here, not kept as fixtures, so that ruff does not trip over them.
    (tmp_path / "syntax_error.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "pyproject.toml").write_text('[project\nname = "broken"\n')
    (tmp_path / "requirements.txt").write_text("flask\n")
    inventory = collect(tmp_path)
    messages = {w.source: w.message for w in inventory.warnings}
    assert "syntax" in messages["syntax_error.py:1"]
    assert "TOMLDecodeError" in messages["pyproject.toml:1"]
    assert inventory.framework is not None and inventory.framework.value == "flask"
