"""`inv demo` without a Docker engine: it starts one where it can, says how where it cannot.

The real engine on this machine is never touched: DOCKER_HOST names a socket under tmp_path,
the installer (apt-get) and the client (docker) are fakes first on PATH, and the daemon the
start script runs (DOCKERD) is a fake that the fake apt-get installs; each records what it was
asked to do. CI's `.ci/run` runs the real install on a fresh machine.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kubestep import engine
from kubestep.errors import DockerUnavailable
from kubestep.paths import REPO

INV = Path(sys.executable).parent / "inv"

# apt-get "installs" a package by writing a fake of its program into the fake bin directory.
FAKE_APT_GET = """#!/bin/sh
echo "apt-get $*" >>"$FAKE_RECORD"
echo "Reading package lists... Done"
for package in "$@"; do
    case "$package" in
        docker.io) cp "$FAKE_BIN/.dockerd" "$FAKE_BIN/dockerd" ;;
        debootstrap) printf '#!/bin/sh\\nexit 1\\n' >"$FAKE_BIN/debootstrap" ;;
    esac
done
chmod +x "$FAKE_BIN"/* 2>/dev/null || true
"""
FAKE_DOCKERD = """#!/bin/sh
echo "dockerd $*" >>"$FAKE_RECORD"
if [ "${FAKE_DOCKERD_FAILS:-0}" = 1 ]; then
    echo "fake dockerd: failed to start daemon" >&2
    exit 1
fi
touch "$FAKE_BIN/.engine-up"
"""
# A client that answers `info` once the fake dockerd ran, has every image, and stops at
# `compose up`: the run of the real service is the docker tier's and CI's job.
FAKE_DOCKER = """#!/bin/sh
echo "docker $*" >>"$FAKE_RECORD"
case "$1 $2" in
    "info "*) [ -e "$FAKE_BIN/.engine-up" ] || { echo "Cannot connect" >&2; exit 1; } ;;
    "compose version") echo "Docker Compose version v2-fake" ;;
    "compose up") echo "fake compose: no containers here" >&2; exit 1 ;;
    "image inspect") ;;
esac
"""


def write_fakes(fake_bin: Path) -> None:
    fake_bin.mkdir()
    for name, text in (("apt-get", FAKE_APT_GET), (".dockerd", FAKE_DOCKERD)):
        (fake_bin / name).write_text(text)
    (fake_bin / "docker").write_text(FAKE_DOCKER)
    for path in fake_bin.iterdir():
        path.chmod(0o755)


def run_demo(tmp_path: Path, *options: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`inv demo` under a tmp HOME, with the fakes first on PATH and a socket nobody serves."""
    fake_bin = tmp_path / "bin"
    write_fakes(fake_bin)
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.pathsep.join((str(fake_bin), str(INV.parent), os.environ["PATH"])),
        "DOCKER_HOST": f"unix://{tmp_path / 'docker.sock'}",
        "DOCKERD": str(fake_bin / "dockerd"),
        "DOCKERD_LOG": str(tmp_path / "dockerd.log"),
        "KUBESTEP_CACHE": str(tmp_path / "cache"),
        "FAKE_BIN": str(fake_bin),
        "FAKE_RECORD": str(tmp_path / "record"),
        **{name: os.environ[name] for name in ("LANG", "SSL_CERT_FILE") if name in os.environ},
        **variables,
    }
    (tmp_path / "record").touch()
    return subprocess.run(
        [str(INV), "demo", "--dest", str(tmp_path / "legacy-app"), *options],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def recorded(tmp_path: Path) -> list[str]:
    return (tmp_path / "record").read_text().splitlines()


def test_demo_installs_and_starts_an_engine_then_builds_in_timed_phases(tmp_path: Path) -> None:
    demo = run_demo(tmp_path)

    assert demo.returncode == 1, demo.stdout + demo.stderr
    socket_path = tmp_path / "docker.sock"
    calls = recorded(tmp_path)
    assert "apt-get update -qq" in calls, "\n".join([*calls, demo.stdout, demo.stderr])
    assert calls[calls.index("apt-get update -qq") + 1].startswith("apt-get install ")
    assert "docker.io debootstrap zstd" in calls[calls.index("apt-get update -qq") + 1]
    assert f"dockerd --host unix://{socket_path}" in calls
    assert calls.index("apt-get update -qq") < calls.index(f"dockerd --host unix://{socket_path}")
    assert "docker compose up --build --detach --wait" in calls
    lines = demo.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("no Docker engine answers"))
    assert "--no-engine" in lines[start] and "KUBESTEP_NO_ENGINE=1" in lines[start]
    phases = lines[start + 1 :]
    assert [line.split(" ... ")[0] for line in phases] == [
        "docker engine and compose",
        "base image kubestep-local/python:3.11-bookworm",
        "local images kubestep-local/postgres:15, kubestep-local/redis:7",
        "the service: make run_local",
    ]
    assert all(line.split(" ... ")[1].endswith(" s") for line in phases)
    assert phases[-1].split(" ... ")[1].startswith("failed after ")
    # apt's and the builds' output is in the logs, not on the screen.
    assert "Reading package lists" not in demo.stdout + demo.stderr
    logs = tmp_path / "cache" / "logs"
    assert "Reading package lists... Done" in (logs / "demo-engine.log").read_text()
    assert "fake compose: no containers here" in demo.stderr
    assert demo.stderr.splitlines()[-1] == (
        "error: the service: make run_local failed (exit 2); its output is in "
        f"{logs / 'demo-run-local.log'}"
    )


def test_an_engine_that_does_not_start_stops_the_demo_with_its_log(tmp_path: Path) -> None:
    demo = run_demo(tmp_path, FAKE_DOCKERD_FAILS="1")

    assert demo.returncode == 1
    assert "docker engine and compose ... failed after " in demo.stdout
    assert "base image" not in demo.stdout
    assert "fake dockerd: failed to start daemon" in demo.stderr
    log = tmp_path / "cache" / "logs" / "demo-engine.log"
    assert demo.stderr.splitlines()[-1] == (
        f"error: docker engine and compose failed (exit 1); its output is in {log}"
    )
    assert "Traceback" not in demo.stderr


@pytest.mark.parametrize(
    ("options", "variables"),
    [(("--no-engine",), {}), ((), {"KUBESTEP_NO_ENGINE": "1"})],
    ids=["flag", "variable"],
)
def test_opting_out_stops_after_the_migration_with_a_hint(
    tmp_path: Path, options: tuple[str, ...], variables: dict[str, str]
) -> None:
    demo = run_demo(tmp_path, *options, **variables)

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (tmp_path / "legacy-app" / "build" / "kube" / "staging.yaml").is_file()
    assert demo.stdout.splitlines()[-1] == (
        f"{engine.HOW_TO_GET_ONE}; then run `inv demo` again to start it"
    )
    assert not [call for call in recorded(tmp_path) if not call.startswith("docker ")]
    assert not (tmp_path / "cache" / "logs").exists()


def test_without_a_way_to_start_one_the_demo_fails_after_the_migration(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        host = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    demo = run_demo(tmp_path, DOCKER_HOST=host)

    assert demo.returncode == 1
    assert (tmp_path / "legacy-app" / "build" / "kube" / "staging.yaml").is_file()
    assert demo.stderr.splitlines() == [
        f"error: {engine.HOW_TO_GET_ONE} (kubestep did not start one itself: "
        f"DOCKER_HOST={host} is not a local socket)"
    ]
    assert not [call for call in recorded(tmp_path) if not call.startswith("docker ")]


OS_RELEASES = {
    'ID=debian\nVERSION_ID="12"\n': True,
    "ID=ubuntu\nID_LIKE=debian\n": True,
    'ID=linuxmint\nID_LIKE="ubuntu debian"\n': True,
    'ID="fedora"\n': False,
    "ID=alpine\n": False,
}


@pytest.mark.parametrize(("text", "expected"), OS_RELEASES.items())
def test_debian_family_reads_os_release(tmp_path: Path, text: str, expected: bool) -> None:
    os_release = tmp_path / "os-release"
    os_release.write_text(text)
    assert engine.debian_family(os_release) is expected


def test_no_os_release_is_not_debian(tmp_path: Path) -> None:
    assert engine.debian_family(tmp_path / "missing") is False


@pytest.fixture
def on_debian(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(engine, "debian_family", lambda: True)


def test_as_root_the_start_script_runs_directly(
    on_debian: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert engine.engine_start_command() == [
        "env",
        f"KUBESTEP_PYTHON={sys.executable}",
        "bash",
        engine.script("start-docker-engine.sh"),
    ]


def test_with_passwordless_sudo_it_runs_through_sudo(
    on_debian: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(engine, "_passwordless_sudo", lambda: True)
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock")
    assert engine.engine_start_command()[:5] == [
        "sudo",
        "-n",
        "env",
        f"KUBESTEP_PYTHON={sys.executable}",
        "DOCKER_HOST=unix:///run/user/1000/docker.sock",
    ]


def test_through_sudo_the_base_image_is_built_as_root_on_the_same_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(engine, "_passwordless_sudo", lambda: True)
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock")
    assert engine.base_image_build("base:1") == [
        "sudo",
        "-n",
        "env",
        "DOCKER_HOST=unix:///run/user/1000/docker.sock",
        "bash",
        engine.script("build-base-image.sh"),
        "base:1",
    ]
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert engine.base_image_build("base:1")[:2] == ["bash", engine.script("build-base-image.sh")]


def test_neither_root_nor_sudo_says_so(on_debian: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(engine, "_passwordless_sudo", lambda: False)
    with pytest.raises(DockerUnavailable, match=r"needs root or passwordless sudo\)$"):
        engine.engine_start_command()


def test_elsewhere_than_debian_it_does_not_try(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(engine, "debian_family", lambda: False)
    with pytest.raises(DockerUnavailable, match=r"only on Debian or Ubuntu\)$"):
        engine.engine_start_command()


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("yes", True), ("0", False)])
def test_the_opt_out_variable(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv(engine.NO_ENGINE_VARIABLE, value)
    assert engine.engine_opted_out() is expected
