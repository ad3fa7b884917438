"""safe_files and the inventory on a hostile tree: links out, FIFOs, devices, huge files."""

import os
import stat
import threading
from pathlib import Path

import pytest
import yaml

from kubestep.answers import legacy_answers
from kubestep.inventory import collect, load, safe_files, write
from kubestep.inventory.tree import SourceTree
from kubestep.merge import Change, File, apply_changes, read_file

OUTSIDE_MARK = "OUTSIDE-3f9c-do-not-leak"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A host file kubestep must never read: a credential outside the repo."""
    secret = tmp_path / "host" / "credentials.ini"
    secret.parent.mkdir()
    secret.write_text(f"[database]\nhost = {OUTSIDE_MARK}-host\npassword = {OUTSIDE_MARK}\n")
    return secret


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "config").mkdir(parents=True)
    (root / "config" / "app.ini").write_text("[server]\nport = 8080\n")
    return root.resolve()


def refusal(root: Path, rel: str) -> str:
    with pytest.raises(safe_files.RefusedFile) as refused:
        safe_files.read_bytes(root, rel)
    assert refused.value.rel == rel and str(refused.value).startswith(f"{rel}: ")
    return refused.value.reason


def test_a_regular_file_and_a_link_inside_the_repo_are_read(repo: Path) -> None:
    (repo / "config" / "example.ini").symlink_to("app.ini")
    assert safe_files.read_bytes(repo, "config/app.ini") == b"[server]\nport = 8080\n"
    assert safe_files.read_bytes(repo, "config/example.ini") == b"[server]\nport = 8080\n"


def test_a_link_out_is_refused_whether_or_not_its_target_exists(repo: Path, outside: Path) -> None:
    (repo / "config" / "prod.ini").symlink_to(outside)
    (repo / "config" / "gone.ini").symlink_to(outside.parent / "missing.ini")
    (repo / "config" / "up.ini").symlink_to("../../host/credentials.ini")
    for rel in ("config/prod.ini", "config/gone.ini", "config/up.ini"):
        reason = refusal(repo, rel)
        assert reason.startswith("a symlink leading outside the repository")
    # The same words for both: a refusal does not tell which host files exist.
    assert refusal(repo, "config/prod.ini").replace(str(outside), "X") == refusal(
        repo, "config/gone.ini"
    ).replace(str(outside.parent / "missing.ini"), "X")


def test_links_to_devices_loops_and_parent_paths_are_refused(repo: Path) -> None:
    (repo / "zero").symlink_to("/dev/zero")
    (repo / "loop").symlink_to("loop")
    (repo / "dangling").symlink_to("nothing-here")
    assert "outside the repository" in refusal(repo, "zero")
    assert "loops" in refusal(repo, "loop")
    assert "to nothing" in refusal(repo, "dangling")
    assert "not a path inside" in refusal(repo, "../repo/config/app.ini")
    assert "not a path inside" in refusal(repo, "/etc/passwd")
    with pytest.raises(FileNotFoundError):
        safe_files.read_bytes(repo, "config/missing.ini")


def test_a_fifo_is_refused_without_blocking(repo: Path) -> None:
    os.mkfifo(repo / "config" / "pipe.ini")
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(refusal(repo, "config/pipe.ini")))
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert result == ["a named pipe (FIFO), not a regular file: not read"]


def test_a_file_over_the_limit_is_refused(repo: Path) -> None:
    (repo / "big.txt").write_bytes(b"x" * 2048)
    with pytest.raises(safe_files.RefusedFile, match="larger than 1024 bytes"):
        safe_files.read_bytes(repo, "big.txt", limit=1024)
    assert len(safe_files.read_bytes(repo, "big.txt", limit=2048)) == 2048


def test_walk_reports_what_it_will_not_read_and_never_follows_a_directory_link(
    repo: Path, outside: Path
) -> None:
    (repo / "config" / "prod.ini").symlink_to(outside)
    (repo / "host-etc").symlink_to(outside.parent, target_is_directory=True)
    (repo / "same-config").symlink_to("config", target_is_directory=True)
    os.mkfifo(repo / "pipe")
    found = dict(safe_files.walk(repo, lambda path: False))
    assert found["config/app.ini"] == ""
    assert found["config/prod.ini"].startswith("a symlink leading outside")
    assert found["host-etc"].startswith("a symlink leading outside")
    assert found["pipe"] == "a named pipe (FIFO): not read"
    assert not any(rel.startswith(("host-etc/", "same-config")) for rel in found)


def test_writes_never_go_through_a_link(repo: Path, outside: Path) -> None:
    (repo / "make").symlink_to(outside.parent, target_is_directory=True)
    (repo / "Dockerfile").symlink_to(outside.parent / "planted")
    (repo / "README.rst").symlink_to(outside)
    for rel in ("make/app.mk", "Dockerfile", "README.rst"):
        with pytest.raises(safe_files.RefusedFile, match="does not write through links"):
            safe_files.writable(repo, rel)
    with pytest.raises(safe_files.RefusedFile, match="does not write through links"):
        apply_changes(
            repo, [Change("new.txt", "add", File("ok")), Change("make/a.mk", "add", File("x"))]
        )
    assert not (repo / "new.txt").exists()  # checked before anything is written
    assert sorted(p.name for p in outside.parent.iterdir()) == ["credentials.ini"]
    assert safe_files.writable(repo, "kube/base/new.yaml") == repo / "kube/base/new.yaml"


def test_merge_reads_no_file_through_a_link_out(repo: Path, outside: Path) -> None:
    (repo / "Makefile").symlink_to(outside)
    with pytest.raises(safe_files.RefusedFile, match="Makefile: a symlink leading outside"):
        read_file(repo, "Makefile")
    assert read_file(repo, "missing.txt") is None
    assert read_file(repo, "config/app.ini") == File("[server]\nport = 8080\n")


def test_the_inventory_names_what_it_skipped_and_keeps_nothing_of_it(
    repo: Path, outside: Path
) -> None:
    (repo / "config" / "app.ini.example").symlink_to(outside)
    (repo / "README.md").symlink_to(outside)
    (repo / "nagios").mkdir()
    (repo / "nagios" / "app.cfg").symlink_to("/dev/zero")
    os.mkfifo(repo / "Procfile")
    found = collect(repo)
    dumped = yaml.safe_dump(found.to_dict())
    assert OUTSIDE_MARK not in dumped
    warned = {warning.source: warning.message for warning in found.warnings}
    for rel in ("config/app.ini.example", "README.md", "nagios/app.cfg"):
        assert warned[f"{rel}:1"].startswith("a symlink leading outside the repository"), rel
    assert warned["Procfile:1"] == "a named pipe (FIFO): not read"


def test_binary_and_oversized_files_are_warnings_naming_them(repo: Path) -> None:
    (repo / "Procfile").write_bytes(b"web: \x00\x01\xffgunicorn app:app\n")
    (repo / "requirements.txt").write_bytes(b"flask\n" + b"#" * 1_100_000 + b"\n")
    tree = SourceTree(repo)
    assert tree.text("Procfile") is None and tree.text("requirements.txt") is None
    assert {w.source: w.message for w in tree.warnings()} == {
        "Procfile:1": "binary: not read",
        "requirements.txt:1": "larger than 1 MB: not read",
    }


def test_the_inventory_is_never_written_through_a_link(repo: Path, outside: Path) -> None:
    (repo / ".kubestep").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(safe_files.RefusedFile, match=r"\.kubestep is a symlink"):
        write(collect(repo), repo)
    assert sorted(p.name for p in outside.parent.iterdir()) == ["credentials.ini"]
    (repo / ".kubestep").unlink()
    (repo / ".kubestep").mkdir()
    (repo / ".kubestep" / "inventory.yml").symlink_to(outside)
    with pytest.raises(safe_files.RefusedFile, match="a symlink leading outside"):
        load(repo)


def test_environment_values_that_look_like_credentials_are_not_kept(repo: Path) -> None:
    (repo / "deploy").mkdir()
    (repo / "deploy" / "app.service").write_text(
        "[Service]\nUser=app\nExecStart=/srv/app/run.sh\n"
        "Environment=API_TOKEN=tok-live-123 LOG_LEVEL=info\n"
        'Environment="DATABASE_URL=postgres://app:Sup3rS3cret@db1/orders"\n'
    )
    (repo / "settings.py").write_text(
        "import os\nSECRET_KEY = os.environ.get('DJANGO_SECRET_KEY', 'dev-insecure-key')\n"
    )
    found = collect(repo)
    dumped = yaml.safe_dump(found.to_dict())
    for value in ("tok-live-123", "Sup3rS3cret", "dev-insecure-key"):
        assert value not in dumped, value
    variables = {v.name: v for v in [*found.environment, *found.config.env_vars]}
    assert variables["API_TOKEN"].secret == "key 'API_TOKEN' names a secret"
    assert variables["DATABASE_URL"].secret == "the value of 'DATABASE_URL' looks like a credential"
    assert variables["DJANGO_SECRET_KEY"].secret and variables["DJANGO_SECRET_KEY"].default is None
    assert variables["LOG_LEVEL"].value == "info" and variables["LOG_LEVEL"].secret is None


def test_answers_never_carry_a_secret_value_even_from_a_hand_made_inventory() -> None:
    inventory = {
        "config": {
            "files": [{"path": "/etc/app.ini", "source": "app.py:3"}],
            "keys": [
                {"section": "db", "key": "password", "example_value": "hunter2", "source": "a:1"},
                {
                    "section": "db",
                    "key": "dsn",
                    "default": "mysql://u:pw1234@db/x",
                    "source": "a:2",
                },
                {"section": "db", "key": "host", "example_value": "db1", "source": "a:3"},
            ],
        }
    }
    legacy = legacy_answers(inventory)
    assert "hunter2" not in str(legacy) and "pw1234" not in str(legacy)
    assert legacy["example_config"] == {"db": {"password": "", "dsn": "", "host": "db1"}}
    secrets = {key["key"]: key.get("secret") for key in legacy["config_keys"]}
    assert secrets["password"] and secrets["dsn"] and secrets["host"] is None


def test_a_device_node_in_the_repo_is_refused_without_being_opened(repo: Path) -> None:
    try:
        os.mknod(repo / "tty", 0o600 | stat.S_IFCHR, os.makedev(5, 0))
    except (PermissionError, OSError) as error:
        pytest.skip(f"cannot create a device node here: {error}")
    assert refusal(repo, "tty") == "a device, not a regular file: not read"
    assert dict(safe_files.walk(repo, lambda path: False))["tty"] == "a device: not read"


def test_an_unreadable_user_file_is_a_refusal_naming_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(root: Path, rel: str, limit: int) -> str:
        raise PermissionError(13, "Permission denied")  # what a non-root user meets

    (repo / "Makefile").write_text("all:\n")
    monkeypatch.setattr(safe_files, "read_text", denied)
    with pytest.raises(safe_files.RefusedFile, match=r"^Makefile: cannot be read: Permission"):
        read_file(repo, "Makefile")
