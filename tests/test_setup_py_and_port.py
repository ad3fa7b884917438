"""A setup.py that names its requirement lists, and a start command whose port nothing names."""

import os
from pathlib import Path

import pytest

from kubestep.errors import StepError
from kubestep.inventory import collect
from kubestep.migrate import migrate
from tests.legacy_repo import GIT_IDENTITY, legacy_copy, write_tree

SETUP_PY = """from setuptools import setup, find_packages

requires = [
    'pyramid',
    'waitress',
]
db = ['SQLAlchemy', 'zope.sqlalchemy']
tests_require = ['pytest']

setup(
    name='trivia',
    packages=find_packages(),
    install_requires=requires + db,
    extras_require={'testing': tests_require},
    entry_points={'paste.app_factory': ['main = trivia:main']},
)
"""


def test_setup_py_lists_bound_to_names_are_its_requirements(tmp_path: Path) -> None:
    # Measured shape: the Pyramid scaffold's `install_requires=requires`, read as "computed".
    write_tree(tmp_path, {"setup.py": SETUP_PY, "trivia/__init__.py": ""})
    found = collect(tmp_path)
    runtime = [(d.spec, d.source) for d in found.dependencies if d.scope == "runtime"]
    assert runtime == [
        ("pyramid", "setup.py:4"),
        ("waitress", "setup.py:5"),
        ("SQLAlchemy", "setup.py:7"),
        ("zope.sqlalchemy", "setup.py:7"),
    ]
    assert [d.spec for d in found.dependencies if d.scope == "dev"] == ["pytest"]
    assert not [w for w in found.warnings if "computed" in w.message]


def test_a_start_whose_port_nothing_names_asks_for_it(tmp_path: Path) -> None:
    """pserve listens where its .ini says, not on $PORT: kubestep's 8000 would be a guess."""
    for name, value in GIT_IDENTITY.items():
        os.environ.setdefault(name, value)
    source = write_tree(
        tmp_path / "source",
        {
            "setup.py": SETUP_PY,
            "trivia/__init__.py": "",
            "production.ini": "[server:main]\nuse = egg:waitress#main\nlisten = *:6543\n",
        },
    )
    repo = legacy_copy(tmp_path / "trivia", source)
    before = sorted(path.name for path in repo.iterdir())
    with pytest.raises(StepError) as stopped:
        migrate(repo, "2", out=lambda line: None, sets=["start_command=pserve production.ini"])
    assert str(stopped.value) == (
        "kubestep cannot decide port: nothing in the repo says which port "
        "`pserve production.ini` listens on (candidates: none found); answer once with "
        "`inv migrate ... --set port='...'`"
    )
    assert sorted(path.name for path in repo.iterdir()) == before
    migrate(
        repo, "2", out=lambda line: None, sets=["start_command=pserve production.ini", "port=6543"]
    )
    dockerfile = (repo / "Dockerfile").read_text()
    assert "EXPOSE 6543" in dockerfile and 'CMD ["pserve", "production.ini"]' in dockerfile
    assert "install /tmp/project" in dockerfile
