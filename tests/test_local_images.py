"""The local backing-service images (PostgreSQL, MariaDB, Redis, memcached, RabbitMQ): built
without a registry, used like the official ones, healthy by the catalog's own checks."""

import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from invoke.context import MockContext
from invoke.exceptions import Exit

from bench.corpus import LOCAL_IMAGES as BENCH_IMAGES
from kubestep.catalog import CATALOG
from kubestep.catalog import local_images as catalog_local_images
from kubestep.paths import IMAGES, LOCAL_BASE_IMAGE, LOCAL_SERVICE_IMAGES
from kubestep.tasks import demo as demo_tasks
from kubestep.tasks import docker as docker_tasks

SCRIPTS = Path(__file__).resolve().parents[1] / "kubestep" / "scripts"
BUILD_SCRIPT = SCRIPTS / "build-local-images.sh"
VENV_BIN = Path(sys.executable).parent
POSTGRES_IMAGE = "kubestep-local/postgres:15"
REDIS_IMAGE = "kubestep-local/redis:7"
MARIADB_IMAGE = "kubestep-local/mariadb:10.11"
RABBITMQ_IMAGE = "kubestep-local/rabbitmq:3.10"
MEMCACHED_IMAGE = "kubestep-local/memcached:1.6"
HEALTHY_WITHIN_S = 60
STOP_WITHIN_S = 5


def catalog_health_cmd(kind: str) -> str:
    """The catalog's compose healthcheck for kind as `docker run --health-cmd` takes it."""
    test = [part.replace("$$", "$") for part in CATALOG[kind].healthcheck]
    return test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=120, check=check
    )


def build(base_image: str, *names: str) -> str:
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), *names],
        env={**os.environ, "BASE_IMAGE": base_image},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class Sandbox:
    """A user-defined network and the containers started on it, all removed at the end."""

    def __init__(self) -> None:
        self.prefix = f"kubestep-test-{uuid.uuid4().hex[:8]}"
        self.network = self.prefix
        docker("network", "create", self.network)
        self.containers: list[str] = []

    def run(
        self, name: str, image: str, *args: str, health_cmd: str, command: tuple[str, ...] = ()
    ) -> str:
        """A container started in the background: `docker run` options, image, command."""
        container = f"{self.prefix}-{name}"
        self.containers.append(container)
        docker(
            "run", "-d", "--name", container, "--network", self.network,
            "--health-cmd", health_cmd, "--health-interval", "1s", "--health-retries", "60",
            *args, image, *command,
        )  # fmt: skip
        return container

    def run_once(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A throwaway container on the same network: `docker run` options, image, command."""
        return docker("run", "--rm", "--network", self.network, *args, check=False)

    def remove(self) -> None:
        for container in self.containers:
            # -v: the postgres image declares a VOLUME, which would outlive the container.
            docker("rm", "-f", "-v", container, check=False)
        docker("network", "rm", self.network, check=False)


def wait_healthy(container: str) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    status = ""
    while time.monotonic() < deadline:
        inspect = docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", container)
        status = inspect.stdout.strip()
        if status == "running healthy":
            return
        if not status.startswith("running"):
            break
        time.sleep(0.5)
    logs = docker("logs", container, check=False)
    pytest.fail(f"{container} is not healthy ({status}):\n{logs.stdout}{logs.stderr}")


def stop_seconds(container: str) -> float:
    started = time.monotonic()
    docker("stop", container)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def local_images(base_image: str) -> str:
    build(base_image)
    return base_image


@pytest.fixture
def sandbox(local_images: str) -> Iterator[Sandbox]:
    box = Sandbox()
    try:
        yield box
    finally:
        box.remove()


def test_build_script_rejects_an_unknown_image() -> None:
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "redis", "mysql"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr == (
        "error: unknown image 'mysql' (valid: postgres, mariadb, redis, memcached, rabbitmq)\n"
    )


def test_one_list_of_local_images_for_script_catalog_task_demo_and_bench() -> None:
    listed = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--list"], capture_output=True, text=True, check=True
    ).stdout
    script_tags = dict(line.split() for line in listed.splitlines())
    with_local = [s for s in CATALOG.values() if s.local_image]
    assert script_tags == {s.local_image_name: s.local_image for s in with_local}
    assert list(script_tags) == docker_tasks.LOCAL_IMAGE_NAMES
    for name in script_tags:
        assert (IMAGES / name / "Dockerfile").is_file(), name
    assert sorted(p.name for p in IMAGES.iterdir()) == sorted(script_tags)
    assert {"BASE_IMAGE": LOCAL_BASE_IMAGE, **catalog_local_images()} == BENCH_IMAGES
    assert LOCAL_SERVICE_IMAGES.items() <= catalog_local_images().items()


def test_the_demo_builds_only_the_images_its_example_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(demo_tasks, "log_dir", lambda: tmp_path)
    monkeypatch.setattr(
        demo_tasks, "run_phase", lambda name, command, log: commands.append(command)
    )
    demo_tasks.build_local_images(LOCAL_BASE_IMAGE)
    assert commands[-1] == ["bash", str(BUILD_SCRIPT), "postgres", "redis"]


def test_inv_local_images_builds_the_names_given_or_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_tasks, "require_engine", lambda: None)
    script = BUILD_SCRIPT
    c = MockContext(run={f"bash {script} mariadb rabbitmq": True, f"bash {script}": True})
    docker_tasks.local_images(c, names="mariadb, rabbitmq")
    docker_tasks.local_images(c)
    assert [call.args[0] for call in c.run.call_args_list] == [
        f"bash {script} mariadb rabbitmq",
        f"bash {script}",
    ]
    with pytest.raises(Exit) as raised:
        docker_tasks.local_images(c, names="mongodb")
    assert raised.value.message == (
        "error: names: no local image 'mongodb' (valid: postgres, mariadb, redis, memcached, "
        "rabbitmq)"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in IMAGES.iterdir()))
def test_image_recipes_are_lint_clean(name: str) -> None:
    recipe = IMAGES / name
    hadolint = subprocess.run(
        [VENV_BIN / "hadolint", "Dockerfile"], cwd=recipe, capture_output=True, text=True
    )
    assert hadolint.returncode == 0, hadolint.stdout
    scripts = sorted(str(path) for path in recipe.glob("*.sh"))
    if scripts:
        shellcheck = subprocess.run(
            [VENV_BIN / "shellcheck", *scripts], capture_output=True, text=True
        )
        assert shellcheck.returncode == 0, shellcheck.stdout


@pytest.mark.docker
def test_build_script_skips_present_images(local_images: str) -> None:
    output = build(local_images)
    assert "+ docker build" not in output
    for image in catalog_local_images().values():
        assert f"image {image} is present" in output


@pytest.mark.docker
def test_postgres_takes_password_logins_over_tcp(sandbox: Sandbox) -> None:
    db = sandbox.run(
        "postgres", POSTGRES_IMAGE,
        "-e", "POSTGRES_USER=orders", "-e", "POSTGRES_PASSWORD=s3cret", "-e", "POSTGRES_DB=shop",
        health_cmd='pg_isready -U "$POSTGRES_USER"',
    )  # fmt: skip
    wait_healthy(db)

    def login(password: str) -> subprocess.CompletedProcess[str]:
        return sandbox.run_once(
            "-e", f"PGPASSWORD={password}", POSTGRES_IMAGE,
            "psql", "-h", db, "-U", "orders", "-d", "shop", "-tAc", "select 1",
        )  # fmt: skip

    good = login("s3cret")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "1"
    bad = login("wrong")
    assert bad.returncode != 0
    assert 'password authentication failed for user "orders"' in bad.stderr

    assert stop_seconds(db) < STOP_WITHIN_S


@pytest.mark.docker
def test_postgres_refuses_to_start_without_a_password(sandbox: Sandbox) -> None:
    result = sandbox.run_once(POSTGRES_IMAGE)
    assert result.returncode == 1
    assert "POSTGRES_PASSWORD is not set" in result.stderr


@pytest.mark.docker
def test_redis_answers_ping_from_another_container(sandbox: Sandbox) -> None:
    cache = sandbox.run("redis", REDIS_IMAGE, health_cmd="redis-cli ping | grep -q PONG")
    wait_healthy(cache)

    ping = sandbox.run_once(REDIS_IMAGE, "redis-cli", "-h", cache, "ping")
    assert ping.returncode == 0, ping.stderr
    assert ping.stdout.strip() == "PONG"
    save = docker("exec", cache, "redis-cli", "config", "get", "save").stdout.split("\n")
    assert save[1] == "", "persistence should be off by default"

    assert stop_seconds(cache) < STOP_WITHIN_S


@pytest.mark.docker
def test_mariadb_creates_the_app_user_and_database(sandbox: Sandbox, tmp_path: Path) -> None:
    # The catalog's variables, with passwords that need quoting in SQL and option files.
    env = {
        **CATALOG["mysql"].environment,
        "MYSQL_PASSWORD": 'it\'s "app" #1\\',
        "MYSQL_ROOT_PASSWORD": "root's #2",
    }
    init = tmp_path / "initdb"
    init.mkdir()
    (init / "schema.sql").write_text("CREATE TABLE greeting (word VARCHAR(20));\n")
    init.chmod(0o755)
    db = sandbox.run(
        "mysql", MARIADB_IMAGE, *[f"-e{key}={value}" for key, value in env.items()],
        "-v", f"{init}:/docker-entrypoint-initdb.d:ro",
        health_cmd=catalog_health_cmd("mysql"),
    )  # fmt: skip
    wait_healthy(db)

    def query(user: str, password: str, sql: str) -> subprocess.CompletedProcess[str]:
        return sandbox.run_once(
            "-e", f"MYSQL_PWD={password}", MARIADB_IMAGE,
            "mysql", "-h", db, "-u", user, "-N", "-e", sql, env["MYSQL_DATABASE"],
        )  # fmt: skip

    app = query(env["MYSQL_USER"], env["MYSQL_PASSWORD"], "select database(), current_user()")
    assert app.returncode == 0, app.stderr
    assert app.stdout.split() == [env["MYSQL_DATABASE"], f"{env['MYSQL_USER']}@%"]
    table = query(env["MYSQL_USER"], env["MYSQL_PASSWORD"], "show tables")
    assert table.stdout.split() == ["greeting"], table.stderr
    wrong = query(env["MYSQL_USER"], "wrong", "select 1")
    assert wrong.returncode != 0
    assert f"Access denied for user '{env['MYSQL_USER']}'" in wrong.stderr
    root = query("root", env["MYSQL_ROOT_PASSWORD"], "select count(*) from mysql.user")
    assert root.returncode == 0, root.stderr

    # A second start finds its data and keeps it: no second initialization.
    docker("restart", db)
    wait_healthy(db)
    logs = docker("logs", db).stdout
    assert logs.count("MariaDB init process complete") == 1
    denied = [line for line in docker("logs", db).stderr.splitlines() if "Access denied" in line]
    assert len(denied) == 1, "only the wrong password above; the healthcheck must log in"
    assert stop_seconds(db) < STOP_WITHIN_S


@pytest.mark.docker
def test_mariadb_refuses_to_start_without_a_root_password(sandbox: Sandbox) -> None:
    result = sandbox.run_once("-e", "MYSQL_USER=app", "-e", "MYSQL_PASSWORD=x", MARIADB_IMAGE)
    assert result.returncode == 1
    assert "MYSQL_ROOT_PASSWORD is not set" in result.stderr


# AMQP 0-9-1 from the standard library: header, Start-Ok (PLAIN), Tune-Ok, Open; prints the
# last method's (class, method), or "closed" when the server hangs up (a refused login).
AMQP_LOGIN = r"""
import socket, struct, sys
host, user, password = sys.argv[1:4]
sock = socket.create_connection((host, 5672), timeout=10)
def frame():
    try:
        head = sock.recv(7, socket.MSG_WAITALL)
    except ConnectionResetError:
        head = b""
    if len(head) < 7:
        print("closed"); sys.exit(0)
    kind, channel, size = struct.unpack(">BHI", head)
    body = sock.recv(size + 1, socket.MSG_WAITALL)[:-1]
    return struct.unpack(">HH", body[:4]), body[4:]
def send(class_id, method_id, args):
    body = struct.pack(">HH", class_id, method_id) + args
    sock.sendall(struct.pack(">BHI", 1, 0, len(body)) + body + b"\xce")
def shortstr(text):
    return struct.pack(">B", len(text)) + text.encode()
sock.sendall(b"AMQP\x00\x00\x09\x01")
assert frame()[0] == (10, 10)
response = f"\0{user}\0{password}".encode()
send(10, 11, struct.pack(">I", 0) + shortstr("PLAIN") + struct.pack(">I", len(response))
     + response + shortstr("en_US"))
method, args = frame()
if method != (10, 30):
    print(method); sys.exit(0)
send(10, 31, args[:8])
send(10, 40, shortstr("/") + shortstr("") + b"\x00")
print(frame()[0])
"""


@pytest.mark.docker
def test_rabbitmq_takes_guest_from_another_container(sandbox: Sandbox) -> None:
    broker = sandbox.run("rabbitmq", RABBITMQ_IMAGE, health_cmd=catalog_health_cmd("rabbitmq"))
    wait_healthy(broker)
    settings = CATALOG["rabbitmq"].local_settings

    def login(password: str) -> str:
        result = sandbox.run_once(
            LOCAL_BASE_IMAGE, "python3", "-c", AMQP_LOGIN, broker, settings["user"], password
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert login(settings["password"]) == "(10, 41)"  # Connection.Open-Ok
    assert login("wrong") == "closed"
    assert stop_seconds(broker) < STOP_WITHIN_S


MEMCACHED_SESSION = r"""
import socket, sys
sock = socket.create_connection((sys.argv[1], 11211), timeout=5)
sock.sendall(b"version\r\nset greeting 0 60 5\r\nhello\r\nget greeting\r\nquit\r\n")
reply = b""
while chunk := sock.recv(4096):
    reply += chunk
print(reply.decode())
"""


@pytest.mark.docker
def test_memcached_answers_version_and_keeps_a_value(sandbox: Sandbox) -> None:
    cache = sandbox.run("memcached", MEMCACHED_IMAGE, health_cmd=catalog_health_cmd("memcached"))
    wait_healthy(cache)
    session = sandbox.run_once(LOCAL_BASE_IMAGE, "python3", "-c", MEMCACHED_SESSION, cache)
    assert session.returncode == 0, session.stderr
    assert session.stdout.splitlines()[:5] == [
        "VERSION 1.6.18", "STORED", "VALUE greeting 0 5", "hello", "END"
    ]  # fmt: skip
    # Options after the image, as with the official image: `memcached -m 16`.
    small = sandbox.run("small", MEMCACHED_IMAGE, health_cmd="true", command=("-m", "16"))
    assert docker("exec", small, "ps", "-o", "args=", "-p", "1").stdout.strip() == "memcached -m 16"
    assert stop_seconds(cache) < STOP_WITHIN_S
