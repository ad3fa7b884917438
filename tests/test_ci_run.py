"""CI runs README.rst's two set-up commands, taken from README itself, so they stay one."""

import subprocess

from kubestep.paths import REPO

CI_RUN = REPO / ".ci" / "run"


def readme_command(task: str) -> subprocess.CompletedProcess[str]:
    """.ci/run's own readme_command function, called on this README."""
    script = f'eval "$(sed -n "/^readme_command()/,/^}}/p" {CI_RUN})"; readme_command {task}'
    return subprocess.run(
        ["bash", "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ci_runs_the_first_two_commands_of_readme_in_order() -> None:
    readme = (REPO / "README.rst").read_text().splitlines()
    set_up = [line.removeprefix("   $ ") for line in readme if line.startswith("   $ ")][:2]
    found = [readme_command(task).stdout.strip() for task in ("demo", "test")]
    assert found == set_up
    assert found[0].endswith(".venv/bin/inv demo")
    assert found[1].endswith(".venv/bin/inv test")


def test_ci_stops_when_readme_lacks_a_command() -> None:
    result = readme_command("deploy")
    assert result.returncode == 1
    assert result.stderr == "error: README.rst has no '$ ... inv deploy' command\n"
