"""Python 2 code stops step 2 with one line, before a Dockerfile that builds and cannot start:
print statements, and implicit relative imports, which Python 3 parses and fails to import."""

from pathlib import Path

import pytest

from kubestep.errors import StepError
from kubestep.inventory import collect
from kubestep.migrate import migrate
from tests.legacy_repo import GIT_IDENTITY, git, write_tree

# A Falcon API started as `gunicorn --pythonpath api app:api`: api/ is on sys.path, so app.py's
# `import middlewares` is a Python 3 import; inside the packages, `import auth` is Python 2's.
FALCON_PY2 = {
    "requirements.txt": "falcon==3.1.3\ngunicorn==23.0.0\n",
    "Procfile": "web: gunicorn --pythonpath api app:api\n",
    "api/__init__.py": "",
    "api/app.py": (
        "import falcon\nimport middlewares\nfrom hooks import auth\n"
        "api = falcon.App(middleware=[middlewares.auth.Check()])\n"
    ),
    "api/middlewares/__init__.py": "import auth\n",
    "api/middlewares/auth.py": "class Check:\n    pass\n",
    "api/hooks/__init__.py": "import auth\n",
    "api/hooks/auth.py": "def token(req, resp, resource, params):\n    pass\n",
}


@pytest.fixture(autouse=True)
def identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def committed(root: Path) -> Path:
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "The legacy service")
    return root


def test_implicit_relative_imports_are_python_2_and_the_path_root_is_not(tmp_path: Path) -> None:
    found = collect(write_tree(tmp_path / "songs", FALCON_PY2)).python2_files
    assert [(e.source, e.value) for e in found] == [
        (
            "api/hooks/__init__.py:1",
            "implicit relative import of auth (Python 3: from . import auth)",
        ),
        (
            "api/middlewares/__init__.py:1",
            "implicit relative import of auth (Python 3: from . import auth)",
        ),
    ]


def test_python_3_imports_that_look_alike_are_not_flagged(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "worker",
        {
            "requirements.txt": "celery==5.4.0\nredis==5.2.1\n",
            "proj/__init__.py": "from .celery import app\n",
            # Named like what it imports: the installed package, not itself.
            "proj/celery.py": "from celery import Celery\napp = Celery('proj')\n",
            # A sibling named like a dependency: Python 3 imports the dependency.
            "proj/redis.py": "",
            "proj/cache.py": "import redis\nimport json\nfrom proj import celery\n",
            "proj/json.py": "",
        },
    )
    assert collect(root).python2_files == []


def test_python_2_code_stops_step_2_with_one_line_and_nothing_written(tmp_path: Path) -> None:
    root = committed(write_tree(tmp_path / "songs", FALCON_PY2))
    before = sorted(p.name for p in root.iterdir())
    with pytest.raises(StepError) as stopped:
        migrate(root, "2", out=lambda line: None)
    message = str(stopped.value)
    assert "\n" not in message
    assert message.startswith(
        "the code is Python 2 (2 files, e.g. api/hooks/__init__.py:1 (implicit relative import"
    )
    assert "port it first" in message
    assert git(root, "log", "--format=%s") == "The legacy service"
    assert sorted(p.name for p in root.iterdir()) == before
    assert git(root, "status", "--porcelain") == ""


def test_print_statements_in_two_files_stop_too(tmp_path: Path) -> None:
    root = committed(
        write_tree(
            tmp_path / "old",
            {
                "requirements.txt": "flask==3.0.3\n",
                "Procfile": "web: gunicorn web:app\n",
                "web.py": "from flask import Flask\napp = Flask(__name__)\nprint 'started'\n",
                "tools.py": "try:\n    pass\nexcept ValueError, error:\n    pass\n",
            },
        )
    )
    with pytest.raises(StepError, match=r"^the code is Python 2 \(2 files, e\.g\. tools\.py:3"):
        migrate(root, "2", out=lambda line: None)
