"""The generated README documents every environment variable the runtime and app read."""

import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "template"
# Keys of a WSGI request's environ, not configuration.
WSGI_KEYS = {"PATH_INFO", "REQUEST_METHOD", "QUERY_STRING", "SCRIPT_NAME", "CONTENT_TYPE"}
READS = re.compile(
    r"""(?:environ(?:\.get)?\(|getenv\(|\.(?:require|text|integer|number|boolean|choice|get)\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def variables_read() -> set[str]:
    found: set[str] = set()
    for path in [
        *TEMPLATE.glob("app/*.py"),
        *TEMPLATE.glob("kubestep_runtime/*.py"),
        TEMPLATE / "gunicorn.conf.py",
        TEMPLATE / "kubestep_gunicorn.py.jinja",
    ]:
        found |= set(READS.findall(path.read_text()))
    return found - WSGI_KEYS


def test_every_variable_read_is_in_the_readme_template() -> None:
    # The README template and the parts it includes.
    readme = "".join(
        path.read_text()
        for path in [TEMPLATE / "README.rst.jinja", *sorted((TEMPLATE / "_partials").glob("*.rst"))]
    )
    read = variables_read()
    assert {"ENVIRONMENT", "LOG_FORMAT", "PORT"} <= read
    missing = sorted(name for name in read if f"``{name}``" not in readme)
    assert missing == []
