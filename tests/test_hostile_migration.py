"""Migrating hostile repositories: nothing outside the target is read, written or committed,
no secret value spreads, and a broken answers file is one line that says how to recover."""

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from kubestep import inventory
from kubestep.answers import answers_from_inventory
from kubestep.errors import TargetError
from kubestep.generate import render
from kubestep.migrate import migrate, parse_answers, recorded_answers
from kubestep.paths import EXAMPLE
from tests.legacy_repo import GIT_IDENTITY, git, legacy_copy, run_inv
from tests.render import generate

REPO = Path(__file__).resolve().parents[1]
MARK = "HOSTILE-7d1e"
EXAMPLE_INI = "config/legacy-app.ini.example"
# Credentials added to the example's INI file: by key name, by value shape (URL, token).
SECRETS = {
    ("database", "password"): "changeme",
    ("payments", "api_token"): "tok-8c41f0e2a9b7d3c5",
    ("payments", "webhook"): "https://hooks:Hunter2Hunter2x@pay.example.com/in",
    ("payments", "signing"): "Zx8pQ2mN7vR4tY6wK1sD9fG3hJ5lA0cBeE",
}


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)


def every_git_object(repo: Path) -> bytes:
    """The content of every object in the repository: blobs, trees, commits, any branch."""
    return subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout


def work_tree_bytes(repo: Path) -> dict[str, bytes]:
    """Every regular file of the work tree (links are not followed), .git aside."""
    found = {}
    for folder, dirs, names in os.walk(repo):
        dirs[:] = [name for name in dirs if name != ".git"]
        for name in names:
            path = Path(folder, name)
            if not path.is_symlink():
                found[path.relative_to(repo).as_posix()] = path.read_bytes()
    return found


@pytest.fixture(scope="module")
def linked_out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The example, its INI example and README symlinked to host files, migrated to step 4."""
    base = tmp_path_factory.mktemp("linked-out")
    host = base / "host"
    host.mkdir()
    credentials = host / "legacy-app.ini"
    credentials.write_text(
        f"[database]\nhost = {MARK}-db.internal\nuser = {MARK}-user\npassword = {MARK}-pw\n"
        f"[{MARK}]\nkey_{MARK} = {MARK}-value\n"
    )
    notes = host / "README.md"
    notes.write_text(f"# {MARK} host notes\n\nroot password: {MARK}-root\n")
    with pytest.MonkeyPatch.context() as env:
        for name, value in GIT_IDENTITY.items():
            env.setenv(name, value)
        repo = legacy_copy(base / "legacy-app")
        (repo / EXAMPLE_INI).unlink()
        (repo / EXAMPLE_INI).symlink_to(credentials)
        (repo / "README.md").unlink()
        (repo / "README.md").symlink_to(Path("..") / "host" / "README.md")
        commit_all(repo, "Config and README come from the host")
        output: list[str] = []
        migrate(repo, "4", out=output.append)
    return {"repo": repo, "output": output, "host": [credentials, notes]}


def test_no_byte_of_a_linked_host_file_reaches_the_work_tree(linked_out: dict) -> None:
    repo = linked_out["repo"]
    files = work_tree_bytes(repo)
    assert "kube/overlay-skeleton/config.ini" in files and "config/staging.ini" in files
    leaked = [path for path, content in files.items() if MARK.encode() in content]
    assert leaked == []


def test_no_byte_of_a_linked_host_file_reaches_git_history(linked_out: dict) -> None:
    repo = linked_out["repo"]
    assert git(repo, "log", "--format=%s", "-1").startswith("kubestep step 4")
    objects = every_git_object(repo)
    assert b"kubestep step 4" in objects  # the search does see every commit
    assert MARK.encode() not in objects


def test_the_links_are_kept_and_named_in_a_warning(linked_out: dict) -> None:
    repo = linked_out["repo"]
    credentials, notes = linked_out["host"]
    assert os.readlink(repo / EXAMPLE_INI) == str(credentials)
    assert (repo / "README.md").resolve() == notes
    output = "\n".join(linked_out["output"])
    for rel in (EXAMPLE_INI, "README.md"):
        assert f"warning: {rel}:1: a symlink leading outside the repository" in output
    inventory = yaml.safe_load((repo / ".kubestep/inventory.yml").read_text())
    assert {w["source"] for w in inventory["warnings"]} >= {f"{EXAMPLE_INI}:1", "README.md:1"}
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("link", "points_to"),
    [("make", "a directory"), ("Makefile", "a file"), (".kubestep", "a directory")],
)
def test_a_link_where_kubestep_reads_or_writes_stops_the_step(
    tmp_path: Path, link: str, points_to: str
) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "kept.txt").write_text(f"{MARK}\n")
    repo = legacy_copy(tmp_path / "legacy-app")
    target = host if points_to == "a directory" else host / "kept.txt"
    if (repo / link).exists():
        (repo / link).unlink()
    (repo / link).symlink_to(target)
    commit_all(repo, "a link")
    head = git(repo, "rev-parse", "HEAD")
    line = one_line_error(run_inv("migrate", "--step", "1", "--target", str(repo)))
    assert f"{link}" in line and "symlink" in line
    assert MARK not in line
    assert sorted(p.name for p in host.iterdir()) == ["kept.txt"]
    assert (host / "kept.txt").read_text() == f"{MARK}\n"
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain", "--ignored") == ""


@pytest.fixture(scope="module")
def with_secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with credentials in its INI example, migrated to step 4."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in GIT_IDENTITY.items():
            env.setenv(name, value)
        repo = legacy_copy(tmp_path_factory.mktemp("secrets") / "legacy-app")
        with (repo / EXAMPLE_INI).open("a") as ini:
            ini.write("\n[payments]\n")
            for (section, key), value in SECRETS.items():
                if section == "payments":
                    ini.write(f"{key} = {value}\n")
            ini.write("currency = EUR\n")
        commit_all(repo, "Payments")
        migrate(repo, "4", out=lambda line: None)
    return repo


def test_secret_values_are_in_no_file_kubestep_wrote(with_secrets: Path) -> None:
    repo = with_secrets
    written = git(repo, "diff", "--name-only", "HEAD~4", "HEAD").splitlines()
    assert ".copier-answers.yml" in written and ".kubestep/inventory.yml" in written
    for commit in git(repo, "rev-list", "HEAD~4..HEAD").splitlines():
        patch = git(repo, "show", "--format=", commit)
        for value in SECRETS.values():
            assert value not in patch, (commit, value)
    assert "currency: EUR" in (repo / ".copier-answers.yml").read_text()  # others are kept


def test_a_secret_key_is_recorded_with_its_section_and_source_only(with_secrets: Path) -> None:
    inventory = yaml.safe_load((with_secrets / ".kubestep/inventory.yml").read_text())
    keys = {(k["section"], k["key"]): k for k in inventory["config"]["keys"]}
    answers = yaml.safe_load((with_secrets / ".copier-answers.yml").read_text())
    recorded = {(k["section"], k["key"]): k for k in answers["legacy"]["config_keys"]}
    for section, key in SECRETS:
        entry = keys[(section, key)]
        assert entry["secret"] and "example_value" not in entry and "default" not in entry
        assert re.fullmatch(r"[\w/.-]+:\d+", entry["source"])
        assert recorded[(section, key)]["secret"] == entry["secret"]
        assert recorded[(section, key)]["default"] is None
        assert answers["legacy"]["example_config"][section][key] == ""
    assert keys[("payments", "currency")]["example_value"] == "EUR"
    assert "secret" not in keys[("payments", "currency")]


def test_the_rendered_config_leaves_every_secret_empty_and_says_where_it_goes(
    with_secrets: Path,
) -> None:
    for path in ("config/staging.ini", "kube/overlay-skeleton/config.ini", "config/local.ini"):
        ini = (with_secrets / path).read_text()
        for (section, key), value in SECRETS.items():
            assert value not in ini, (path, key)
            if path != "config/local.ini" or section == "payments":
                assert f"\n{key} =\n" in ini, (path, key)
        assert "; secret: PAYMENTS_WEBHOOK in the Secret" in ini or path == "config/local.ini"
    assert "password = local-only-password" in (with_secrets / "config/local.ini").read_text()
    readme = (with_secrets / "README.rst").read_text()
    assert "(a secret: not recorded)" in readme
    assert not any(value in readme for value in SECRETS.values())


def test_a_broken_answers_file_is_one_line_that_says_how_to_recover(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "legacy-app")
    migrate(repo, "1", out=lambda line: None)
    step_1 = git(repo, "rev-parse", "--short", "HEAD")
    answers = repo / ".copier-answers.yml"
    lines = answers.read_text().splitlines()
    lines.insert(3, "smarter: [false")
    answers.write_text("\n".join(lines) + "\n")
    commit_all(repo, "a bad edit")
    for command in (["migrate", "--step", "2"], ["status"]):
        line = one_line_error(run_inv(*command, "--target", str(repo)))
        assert f"{answers}:5: not valid YAML (" in line, line
        assert f"git -C {repo} checkout {step_1} -- .copier-answers.yml" in line
    restore = re.search(r"`(git -C .*?)`", line)
    assert restore is not None
    subprocess.run(restore.group(1).split(), check=True)
    commit_all(repo, "answers restored")
    result = run_inv("migrate", "--step", "2", "--target", str(repo))
    assert result.returncode == 0, result.stderr
    assert recorded_answers(repo)["step"] == 2


def test_an_answers_file_that_is_not_answers_is_named_with_its_line(tmp_path: Path) -> None:
    for text, message in [
        ("- a list\n", "1: holds list data, not a mapping of answers"),
        ("1: 2\n", "1: holds dict data, not a mapping of answers"),
        ("origin: legacy\nstep: two\n", "2: step is 'two', not a step number"),
        ("origin: legacy\n  step: 1\n", "2: not valid YAML (mapping values are not allowed here)"),
    ]:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            parse_answers(text)
    (tmp_path / ".copier-answers.yml").write_text("step: [\n")
    with pytest.raises(TargetError, match=r"restore it from git history or a backup"):
        recorded_answers(tmp_path)  # not a git repository: no commit to offer
    assert parse_answers("") == {}


def test_a_link_inside_the_repo_is_read_like_the_file_it_names(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "legacy-app")
    (repo / "docs").mkdir()
    (repo / "README.md").rename(repo / "docs" / "README.md")
    (repo / "README.md").symlink_to(Path("docs") / "README.md")
    commit_all(repo, "README in docs/")
    migrate(repo, "1", out=lambda line: None)
    readme = (repo / "README.rst").read_text()
    assert "Order tracking API for the shop back office" in readme
    assert not os.path.lexists(repo / "README.md")  # retired, as a plain README.md would be
    assert (repo / "docs" / "README.md").is_file()


def test_secret_values_recorded_by_an_earlier_kubestep_leave_with_the_next_step(
    tmp_path: Path,
) -> None:
    repo = legacy_copy(tmp_path / "legacy-app")
    migrate(repo, "1", out=lambda line: None)
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    legacy = answers["legacy"]
    legacy["example_config"]["database"]["password"] = "changeme"
    for key in legacy["config_keys"]:
        key.pop("secret", None)
    (repo / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
    commit_all(repo, "answers as kubestep 0.1 wrote them")
    migrate(repo, "2", out=lambda line: None)
    assert "changeme" not in (repo / ".copier-answers.yml").read_text()
    recorded = yaml.safe_load((repo / ".copier-answers.yml").read_text())["legacy"]
    assert recorded["example_config"]["database"]["password"] == ""
    password = next(k for k in recorded["config_keys"] if k["key"] == "password")
    assert password["secret"] == "key 'password' names a secret"


def test_inv_validate_reads_no_policy_file_through_a_link_out(tmp_path: Path) -> None:
    host = tmp_path / "shadow"
    host.write_text(f"root:{MARK}:19000:0:99999:7:::\n")
    project = generate(tmp_path / "shop")
    policy = project / "kube" / "policy" / "admission-policy.yaml"
    policy.unlink()
    policy.symlink_to(host)
    result = run_inv("validate", "--target", str(project))
    line = one_line_error(result)
    assert "kube/policy/admission-policy.yaml: a symlink leading outside" in line
    assert MARK not in result.stdout + result.stderr


def test_the_render_and_its_copier_task_see_no_file_of_the_target(tmp_path: Path) -> None:
    """copier renders kubestep's template with answers (data) into a fresh directory, and its
    task (`make kube_env`) runs there: nothing in it is, or links to, a file of the target."""
    found = inventory.collect(EXAMPLE)
    rendered = render(tmp_path / "render", answers_from_inventory(found.to_dict(), 4))
    paths = list(rendered.rglob("*"))
    assert (
        rendered / "kube" / "overlays" / "staging" / "kustomization.yaml" in paths
    )  # the task ran
    assert [path for path in paths if path.is_symlink()] == []
