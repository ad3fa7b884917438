"""Open requirements resolve to the releases of the day their files were last committed."""

import subprocess
from pathlib import Path

import pytest

from kubestep import decide
from kubestep.errors import InvalidValue
from kubestep.inventory import collect
from kubestep.migrate import migrate
from kubestep.user_answers import parse_sets
from tests.legacy_repo import GIT_IDENTITY, commit_all_at, legacy_copy, write_tree
from tests.render import VENV_BIN

GREETER = {
    "greeter/__init__.py": (
        "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
        "@app.route('/')\ndef hello():\n    return 'hello'\n"
    ),
    "Procfile": "web: gunicorn --bind 0.0.0.0:$PORT greeter:app\n",
}


def greeter_repo(root: Path, requirements: str, when: str) -> Path:
    source = write_tree(
        root.parent / f"{root.name}-source", {**GREETER, "requirements.txt": requirements}
    )
    return legacy_copy(root, source, when)


def test_the_date_is_the_last_commit_of_a_dependency_file_not_kubesteps_nor_the_codes(
    tmp_path: Path,
) -> None:
    repo = greeter_repo(tmp_path / "greeter", "flask\ngunicorn==23.0.0\n", "2024-05-01T10:00:00Z")
    (repo / "requirements.txt").write_text("flask\ngunicorn==23.0.0\nredis\n")
    commit_all_at(repo, "2024-05-03T08:30:00+02:00", "Add redis")
    (repo / "requirements.txt").write_text("flask\ngunicorn==23.0.0\nredis\n# kubestep\n")
    commit_all_at(repo, "2025-01-01T00:00:00Z", "kubestep step 2: get back the knowledge")
    (repo / "greeter" / "views.py").write_text("VIEWS = []\n")
    commit_all_at(repo, "2026-01-01T00:00:00Z", "A code-only change")
    found = collect(repo).to_dict()
    assert found["dependencies_date"] == {
        "value": "2024-05-03T06:30:00Z",
        "source": "git log: requirements.txt",
    }


def test_no_history_or_an_uncommitted_dependency_file_gives_no_date(tmp_path: Path) -> None:
    plain = write_tree(tmp_path / "plain", {**GREETER, "requirements.txt": "flask\n"})
    assert collect(plain).dependencies_date is None
    repo = greeter_repo(tmp_path / "greeter", "flask\n", "2024-05-01T10:00:00Z")
    (repo / "requirements.txt").write_text("flask\nredis\n")
    assert collect(repo).dependencies_date is None


@pytest.mark.parametrize(
    ("date", "python", "answers", "expected"),
    [
        ("2024-05-01T10:00:00Z", "3.11", {}, "2024-05-01T10:00:00Z"),
        ("2021-03-01T10:00:00Z", "3.11", {}, ""),
        ("2023-06-01T10:00:00Z", "3.12", {}, ""),
        ("2024-05-01T10:00:00Z", "3.11", {"resolve_before": "today"}, ""),
        ("2024-05-01T10:00:00Z", "3.11", {"resolve_before": "2023-01-15"}, "2023-01-15"),
        ("", "3.11", {}, ""),
    ],
)
def test_the_resolve_date_only_where_the_images_python_existed_that_day(
    date: str, python: str, answers: dict[str, str], expected: str
) -> None:
    inventory = {"dependencies_date": {"value": date, "source": "git log: requirements.txt"}}
    choice = decide.resolve_before(inventory if date else {}, python, answers)
    assert choice.value == expected
    if date and not answers and not expected:
        assert f"predate Python {python}" in choice.reason


def test_a_resolve_date_answer_must_be_a_date() -> None:
    assert parse_sets(["resolve_before=2023-01-15"]) == {"resolve_before": "2023-01-15"}
    with pytest.raises(InvalidValue, match="is not a date"):
        parse_sets(["resolve_before=last-year"])


def test_the_dockerfile_resolves_the_apps_requirements_dated_and_kubesteps_own_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    repo = greeter_repo(tmp_path / "greeter", "flask\ngunicorn==23.0.0\n", "2024-05-01T10:00:00Z")
    migrate(repo, "+1", out=lambda line: None)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "\nARG RESOLVE_BEFORE=2024-05-01T10:00:00Z\n" in dockerfile
    install = dockerfile[dockerfile.index("RUN if [ -s /tmp/ca-bundle") :]
    install = install[: install.index("\n\n")]
    dated = (
        "PYTHONPATH=/tmp/pip python -m pip --python /opt/venv/bin/python install "
        "--requirement /tmp/requirements/requirements.txt "
        '${RESOLVE_BEFORE:+--uploaded-prior-to "$RESOLVE_BEFORE"}'
    )
    assert dated in install
    own = (
        "python -m pip --python /opt/venv/bin/python install "
        "--requirement /tmp/requirements-kubestep.txt"
    )
    assert own in install and install.index(dated) < install.index(own)
    assert "--target /tmp/pip 'pip==26.0.1'" in install
    # The date holds for the Python it was decided for; another base gets today's releases.
    assert """print("%d.%d" % sys.version_info[:2])')" != 3.11 ]""" in install
    linted = subprocess.run(
        [VENV_BIN / "hadolint", "Dockerfile"], cwd=repo, capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout
    readme = (repo / "README.rst").read_text()
    assert "as of 2024-05-01T10:00:00Z" in readme

    today = greeter_repo(tmp_path / "today", "flask\ngunicorn==23.0.0\n", "2024-05-01T10:00:00Z")
    migrate(today, "+1", out=lambda line: None, sets=["resolve_before=today"])
    dockerfile = (today / "Dockerfile").read_text()
    assert "RESOLVE_BEFORE" not in dockerfile and "/tmp/pip" not in dockerfile
    assert (
        "install --requirement /tmp/requirements/requirements.txt \\\n"
        "       --requirement /tmp/requirements-kubestep.txt"
    ) in dockerfile
