"""Developer tasks for kubestep itself: the test suite and the linters CI runs."""

import os
import sys
from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

LINTED = (
    "kubestep tests tasks.py bench template/app template/kubestep_runtime template/tests "
    "template/kube/deploy"
)


def venv_env() -> dict[str, str]:
    """PATH with this interpreter's bin directory first, so its tools win over the system's."""
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


@task
def lint(c: Context) -> None:
    """Lint kubestep: ruff, ruff format, mypy and shellcheck."""
    env = venv_env()
    c.run(f"ruff check {LINTED}", echo=True, env=env)
    c.run(f"ruff format --check {LINTED}", echo=True, env=env)
    c.run("mypy kubestep tasks.py", echo=True, env=env)
    c.run("shellcheck kubestep/scripts/*.sh .ci/run", echo=True, env=env)


@task(
    pre=[lint],
    help={
        "tier": "only tests with this marker expression, e.g. 'docker' or 'not docker'",
        "args": "more pytest arguments",
    },
)
def test(c: Context, tier: str = "", args: str = "") -> None:
    """Lint, then run the test suite, cheapest tiers first (Docker tests need an engine).

    :param tier: a pytest marker expression selecting tiers
    :param args: extra pytest arguments
    """
    marker = f" -m '{tier}'" if tier else ""
    c.run(f"python -m pytest{marker} {args}".rstrip(), echo=True, env=venv_env())


dev = Collection("dev", test, lint)
