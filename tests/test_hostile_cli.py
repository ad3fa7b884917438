"""Broken input through the command line: one `error:` line and exit 1 where it fails, never a
traceback, the target unchanged. Bad environments and a missing cluster are covered where
those targets live (test_kube_manifests.test_a_wrong_env_is_one_line,
test_kube_plugins.test_without_a_cluster_one_line_and_exit_1)."""

import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task

from kubestep.tasks import migrate as migration_tasks
from kubestep.tasks.new import new as new_task
from tests.legacy_repo import GIT_IDENTITY, git
from tests.render import VENV_BIN

REPO = Path(__file__).resolve().parents[1]
BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]"
            for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "services:",
        "  web:",
        "    image: *i",
        "    environment: *i",
    ]
)


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **GIT_IDENTITY, **env},
        timeout=600,
    )


def inv(*arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([str(VENV_BIN / "inv"), *arguments], **env)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


@pytest.fixture
def broken_repo(tmp_path: Path) -> Path:
    """A repository of everything a reader may choke on, committed."""
    repo = tmp_path / "broken-app"
    repo.mkdir()
    (repo / "docker-compose.yml").write_text(BILLION_LAUGHS + "\n")
    (repo / "Procfile").write_bytes(b"web: \x00\x01\x02gunicorn\xff\xfe app:app\n")
    (repo / "app.ini").write_text("[db]\nhost = %(missing)s\nurl = %(\nname = %%(x\n")
    (repo / "requirements.txt").write_bytes(
        b"-r missing.txt\n--index-url https://pypi.example.com/simple\n"
        b'flask>=2 ; python_version>"3"\n-e .\n\xff\xfe\nfoo @ file:///etc/passwd\n'
        b"gunicorn==21.2 \\\n  --hash=sha256:abc\n[extra]\n"
    )
    (repo / "app.py").write_bytes(b"import os\x00\ndef broken(:\n")
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "broken")
    return repo


def test_the_inventory_of_a_broken_repo_is_warnings_not_a_crash(broken_repo: Path) -> None:
    before = snapshot(broken_repo)
    started = time.monotonic()
    result = inv("inventory", "--target", str(broken_repo))
    assert time.monotonic() - started < 60  # the YAML bomb is never expanded
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Procfile:1: binary: not read" in result.stdout
    assert "requirements.txt:4: not a requirement: '-e .'" in result.stdout
    inventory = yaml.safe_load((broken_repo / ".kubestep" / "inventory.yml").read_text())
    keys = {(k["section"], k["key"]): k.get("example_value") for k in inventory["config"]["keys"]}
    assert keys[("db", "host")] == "%(missing)s"  # read as text, never interpolated
    assert snapshot(broken_repo) == {
        **before,
        ".kubestep/inventory.yml": (broken_repo / ".kubestep/inventory.yml").read_bytes(),
    }


def test_a_broken_repo_migrates_with_its_warnings_printed(broken_repo: Path) -> None:
    result = inv("migrate", "--step", "1", "--target", str(broken_repo))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "warning: Procfile:1: binary: not read" in result.stdout
    assert (broken_repo / "docker-compose.yml").read_text() == BILLION_LAUGHS + "\n"
    assert git(broken_repo, "status", "--porcelain") == ""


def test_an_empty_repository(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = inv("inventory", "--target", str(empty))
    assert result.returncode == 0, result.stderr
    assert [p.name for p in empty.iterdir()] == [".kubestep"]
    git(empty, "init", "--quiet")
    line = one_line_error(inv("migrate", "--step", "1", "--target", str(empty)))
    assert "git rev-parse failed" in line or "HEAD" in line
    assert sorted(p.name for p in empty.iterdir()) == [".git", ".kubestep"]


def task_error(task: Task, *args: object, **kwargs: object) -> str:
    """What a task says when it fails: invoke's Exit, as the command line shows it."""
    with pytest.raises(Exit) as failed:
        task(Context(), *args, **kwargs)
    assert failed.value.code == 1
    message = str(failed.value.message)
    assert message.startswith("error: ") and "\n" not in message
    return message


def test_a_target_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "service.tar"
    target.write_bytes(b"not a directory")
    assert str(target) in one_line_error(inv("migrate", "--step", "1", "--target", str(target)))
    for task, kwargs in [
        (migration_tasks.inventory, {}),
        (migration_tasks.migrate, {"step": "1", "dry_run": True}),
        (migration_tasks.status, {}),
        (migration_tasks.validate, {}),
    ]:
        assert str(target) in task_error(task, target=str(target), **kwargs), task.name
    assert target.read_bytes() == b"not a directory"


@pytest.mark.parametrize("step", ["0", "7x", "+2", "-1", "four", ""])
def test_unknown_steps(step: str) -> None:
    message = task_error(migration_tasks.migrate, step=step, target=".")
    assert "is not a step: use one of 1, 2, 3, 4, 5, 6, +1" in message


def test_no_engine_is_one_line_with_the_way_to_get_one(tmp_path: Path) -> None:
    nowhere = f"unix://{tmp_path}/no-engine.sock"
    for task in ("base-image", "local-images"):
        line = one_line_error(inv(task, DOCKER_HOST=nowhere))
        assert "no Docker engine answers `docker info`" in line and "inv engine" in line


def test_inv_new_refuses_a_bad_answer_in_one_line(tmp_path: Path) -> None:
    destination = tmp_path / "svc"
    line = one_line_error(inv("new", "orders", "--set", "port=80", "--dest", str(destination)))
    assert line == (
        "error: port: 80 is not a usable port: use 1024 to 65535 "
        "(lower ports need root, which the container does not have)"
    )
    assert not destination.exists()


@pytest.mark.parametrize(
    ("name", "settings", "message"),
    [
        ("Bad_Name", [], "error: service_name: 'Bad_Name' is not a valid name"),
        ("orders", ["port=http"], "error: port: 'http' is not a whole number"),
        ("orders", ["environments=qa,Prod"], "error: environments: 'Prod' is not a valid name"),
        ("orders", ["environments=[qa"], "error: environments: '[qa' is not a YAML list"),
        ("orders", ["ingress_class=haproxy"], "error: ingress_class: 'haproxy' is not one of"),
        ("orders", ["colour=blue"], "error: 'colour' is not a question: use one of service_name"),
        ("orders", ["origin=legacy"], "error: origin is set by `inv migrate`"),
        ("orders", ["port"], "error: --set 'port' is not key=value"),
        ("orders", ["port=8080", "port=9090"], "error: --set port= is given twice"),
        ("orders", ["image=registry/app:latest"], "error: image: 'registry/app:latest' is not an"),
        ("orders", ["team=Team A"], "error: team: 'Team A' is not a valid name"),
    ],
)
def test_inv_new_checks_every_answer_before_copier_runs(
    tmp_path: Path, name: str, settings: list[str], message: str
) -> None:
    destination = tmp_path / "svc"
    assert task_error(new_task, name, dest=str(destination), set_=settings).startswith(message)
    assert not destination.exists()


def test_inv_new_refuses_a_file_or_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine")
    assert "is a file" in task_error(new_task, "orders", dest=str(tmp_path / "file"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert "is not empty" in task_error(new_task, "orders", dest=str(tmp_path / "full"))
    assert (tmp_path / "file").read_text() == "mine"
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_inv_new_writes_a_service_with_the_answers_given(tmp_path: Path) -> None:
    destination = tmp_path / "orders"
    result = inv(
        "new", "orders", "--dest", str(destination),
        "--set", "port=9000", "--set", "environments=qa,prod", "--set", "team=shop",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert answers["service_name"] == "orders" and answers["port"] == 9000
    assert answers["environments"] == ["qa", "prod"] and answers["team"] == "shop"
    assert answers["image"] == "registry.example.com/shop/orders"


@pytest.mark.parametrize(
    ("data", "quoted"), [("service_name=Bad_Name", "'Bad_Name'"), ("port=80", "80")]
)
def test_copier_copy_refuses_a_bad_answer_with_kubesteps_message(
    tmp_path: Path, data: str, quoted: str
) -> None:
    destination = tmp_path / "svc"
    copier = [str(VENV_BIN / "copier"), "copy", "--trust", "--defaults", "--data", data]
    result = run([*copier, str(REPO), str(destination)])
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError: Validation error for question") and quoted in last
    assert not destination.exists()
