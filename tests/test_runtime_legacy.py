"""kubestep_runtime.legacy: a legacy INI file overridable from the environment, checked at
start, and handed to the unchanged app through its own path variable."""

from __future__ import annotations

import asyncio
import configparser
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# The runtime ships inside the template, which is not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "template"))

from kubestep_runtime import ConfigError, ConfigKey, LegacyConfig, RuntimeSetupError, backing_checks
from kubestep_runtime.addresses import AddressVariable, Backing, resolve, url_endpoints
from kubestep_runtime.legacy import SOURCE_VARIABLE, Sections, wrap_legacy

TEMPLATE = Path(__file__).resolve().parents[1] / "template"
KEYS = (
    ConfigKey("database", "host"),
    ConfigKey("database", "port", "int"),
    ConfigKey("database", "password"),
    ConfigKey("cache", "ttl", "float"),
    ConfigKey("purge", "enabled", "bool"),
)


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    path = tmp_path / "app.ini"
    path.write_text(
        "[database]\nhost = db1.internal\nport = 5432\npassword =\n\n"
        "[mail-server]\nsmtp.host = mail\n",
        encoding="utf-8",
    )
    return path


def config(ini: Path, keys: tuple[ConfigKey, ...] = KEYS) -> LegacyConfig:
    return LegacyConfig("APP_CONFIG", "/etc/app/app.ini", keys)


def read_ini(path: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    return {name: dict(parser.items(name)) for name in parser.sections()}


def test_section_key_variables_override_keys_of_the_file_and_known_keys(ini: Path) -> None:
    environ = {
        "APP_CONFIG": str(ini),
        "DATABASE_PASSWORD": "from-the-secret",
        "MAIL_SERVER_SMTP_HOST": "smtp.example",
        "CACHE_TTL": "2.5",
        "UNRELATED": "x",
    }
    sections = config(ini).prepare(environ)
    assert sections == {
        "database": {"host": "db1.internal", "port": "5432", "password": "from-the-secret"},
        "mail-server": {"smtp.host": "smtp.example"},
        "cache": {"ttl": "2.5"},
    }
    # The app's own variable now names the merged file; the source is remembered.
    assert environ[SOURCE_VARIABLE] == str(ini)
    assert environ["APP_CONFIG"] != str(ini)
    assert read_ini(environ["APP_CONFIG"]) == sections
    assert ini.read_text(encoding="utf-8").count("from-the-secret") == 0


def test_prepare_is_the_same_in_every_process(ini: Path) -> None:
    """gunicorn's master prepares, then each worker again, from the same source."""
    environ = {"APP_CONFIG": str(ini), "DATABASE_HOST": "postgres"}
    first = config(ini).prepare(environ)
    merged = environ["APP_CONFIG"]
    assert config(ini).prepare(environ) == first
    assert environ["APP_CONFIG"] == merged
    assert read_ini(merged)["database"]["host"] == "postgres"


def test_every_problem_is_listed_at_once(ini: Path) -> None:
    keys = (*KEYS, ConfigKey("server", "secret_key", required=True))
    environ = {"APP_CONFIG": str(ini), "DATABASE_PORT": "five", "PURGE_ENABLED": "maybe"}
    with pytest.raises(ConfigError) as error:
        config(ini, keys).prepare(environ)
    assert error.value.problems == [
        f"invalid [database] port='five' (expected an integer): fix DATABASE_PORT or {ini}",
        f"invalid [purge] enabled='maybe' (expected true or false): fix PURGE_ENABLED or {ini}",
        f"missing [server] secret_key: set SERVER_SECRET_KEY or add it to {ini}",
    ]
    assert environ["APP_CONFIG"] == str(ini)  # nothing redirected on failure


def test_a_missing_file_leaves_the_app_its_fallbacks(tmp_path: Path) -> None:
    environ = {"APP_CONFIG": str(tmp_path / "absent.ini"), "DATABASE_HOST": "postgres"}
    assert config(tmp_path).prepare(environ) == {"database": {"host": "postgres"}}


def test_a_broken_file_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ini"
    broken.write_text("host = no section header\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^cannot read .*broken\.ini: File contains no section"):
        config(tmp_path).prepare({"APP_CONFIG": str(broken)})


def test_an_app_with_a_fixed_path_is_read_but_not_redirected(
    ini: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fixed = LegacyConfig("", str(ini), KEYS)
    environ = {"DATABASE_HOST": "postgres"}
    assert fixed.prepare(environ)["database"]["host"] == "postgres"
    assert SOURCE_VARIABLE not in environ
    assert "DATABASE_HOST cannot override it" in caplog.text


def test_backing_checks_use_the_host_and_port_of_their_section() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        sections = {"database": {"host": "127.0.0.1", "port": str(port)}}
        database, cache = backing_checks(
            sections, [("postgres", "database", 5432), ("redis", "cache", 1)]
        )
        assert (database.name, cache.name) == ("postgres", "redis")
        database.probe(1.0)  # a listening port: no error
    with pytest.raises(OSError):
        cache.probe(1.0)  # the service name, redis:1 (the section is missing)


def test_fail_fast_in_the_gunicorn_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """The rendered kubestep_gunicorn.py pattern: the master stops before any worker starts."""
    script = (
        "from kubestep_runtime import ConfigKey, LegacyConfig, fail_fast\n"
        "KEYS = (ConfigKey('db', 'port', 'int'),)\n"
        "CONFIG = LegacyConfig('APP_CONFIG', '/nonexistent.ini', KEYS)\n"
        "fail_fast(CONFIG.prepare)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=TEMPLATE,
        env={"DB_PORT": "x", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: invalid [db] port='x' (expected an integer): fix DB_PORT or /nonexistent.ini\n"
    )


def test_a_route_clash_in_a_worker_stops_gunicorn_with_one_line(tmp_path: Path) -> None:
    """Without WORKER_BOOT_ERROR, gunicorn would restart the failing worker forever."""
    (tmp_path / "clash_app.py").write_text(
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "app.add_url_rule('/health', 'health', lambda: 'mine')\n"
        "def create_application():\n"
        "    from kubestep_runtime import wrap\n"
        "    from kubestep_runtime.gunicorn_hooks import fail_fast_in_worker\n"
        "    return fail_fast_in_worker(lambda: wrap(app))\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", "127.0.0.1:0"]
    result = subprocess.run(
        [*command, "clash_app:create_application()"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=tmp_path,
        env={"PYTHONPATH": f"{TEMPLATE}:{tmp_path}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors and "/health" in errors[0]
    # gunicorn stops (it may add its own traceback when two workers fail at once).
    assert "Worker failed to boot" in result.stderr
    assert len(errors) <= 2  # one per worker, never a restart loop


# --- backing service addresses: the app's own settings, never an empty host -----------------

REDIS = Backing(
    "redis",
    6379,
    section="cache",
    variables=[
        AddressVariable("CELERY_BROKER_URL", "url", ""),
        AddressVariable("REDIS_URL", "url", "redis://localhost:6379/0"),
    ],
)
POSTGRES = Backing(
    "postgres",
    5432,
    section="database",
    variables=[AddressVariable("DB_HOST", "host", "localhost"), AddressVariable("DB_PORT", "port")],
)


def where(backing: Backing, environ: dict[str, str], sections: Sections | None = None) -> str:
    resolved = resolve(backing, sections or {}, environ)
    if resolved.problem:
        return f"problem: {resolved.problem}"
    return f"{', '.join(str(e) for e in resolved.endpoints)} from {resolved.origin}"


@pytest.mark.parametrize(
    ("environ", "sections", "expected"),
    [
        # The first URL variable that is set wins, whatever the INI file says.
        (
            {"REDIS_URL": "redis://:s3cret@cache.internal:6380/1"},
            {"cache": {"host": "ini-host"}},
            "cache.internal:6380 from REDIS_URL",
        ),
        (
            {"CELERY_BROKER_URL": "redis://broker/0", "REDIS_URL": "redis://other/0"},
            {},
            "broker:6379 from CELERY_BROKER_URL",
        ),
        (
            {"REDIS_URL": ""},
            {"cache": {"host": "ini-host", "port": "7000"}},
            "ini-host:7000 from [cache]",
        ),
        # Unset: the code's default is what the app connects to.
        ({}, {}, "localhost:6379 from REDIS_URL (its default)"),
        (
            {"REDIS_URL": "redis+unix:///run/redis/redis.sock"},
            {},
            "unix:/run/redis/redis.sock from REDIS_URL",
        ),
        ({"REDIS_URL": "redis://:6379/0"}, {}, "problem: REDIS_URL names no host"),
    ],
)
def test_a_url_variable_decides_where_the_check_probes(
    environ: dict[str, str], sections: Sections, expected: str
) -> None:
    assert where(REDIS, environ, sections) == expected


def test_a_dns_srv_url_is_not_probed_as_a_host() -> None:
    mongo = Backing("mongodb", 27017, variables=[AddressVariable("MONGO_URI", "url")])
    assert where(mongo, {"MONGO_URI": "mongodb+srv://u:p@cluster0.example.net/app"}) == (
        "problem: MONGO_URI is a DNS SRV URL, which a TCP check cannot follow: leave the check "
        "out of readiness with READY_REQUIRES"
    )
    assert where(mongo, {"MONGO_URI": "mongodb://m1:27017,m2:27018/app?replicaSet=rs0"}) == (
        "m1:27017, m2:27018 from MONGO_URI"
    )


def test_a_bad_url_port_is_named() -> None:
    assert where(REDIS, {"REDIS_URL": "redis://:pw@cache:six/0"}) == (
        "problem: REDIS_URL has a port that is not a number ('cache:six')"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://app:pw@db1:5433,db2/app", "db1:5433, db2:5432"),
        ("postgresql+psycopg2://app@[2001:db8::1]:5432/app", "[2001:db8::1]:5432"),
        ("postgresql:///app?host=/var/run/postgresql", "unix:/var/run/postgresql/.s.PGSQL.5432"),
        ("postgresql://%2Fvar%2Frun%2Fpostgresql/app", "unix:/var/run/postgresql/.s.PGSQL.5432"),
        ("postgresql://app@/app?host=db.internal&port=5433", "db.internal:5433"),
        (
            "mysql+pymysql://app@/app?unix_socket=/run/mysqld/mysqld.sock",
            "unix:/run/mysqld/mysqld.sock",
        ),
    ],
)
def test_urls_with_several_hosts_sockets_and_drivers(url: str, expected: str) -> None:
    kind = "mysql" if url.startswith("mysql") else "postgres"
    endpoints = url_endpoints(url, kind, 3306 if kind == "mysql" else 5432)
    assert ", ".join(str(e) for e in endpoints) == expected


def test_host_and_port_variables_then_the_section_then_the_service_name() -> None:
    assert where(POSTGRES, {"DB_HOST": "pg.internal", "DB_PORT": "6432"}) == (
        "pg.internal:6432 from DB_HOST, DB_PORT"
    )
    assert where(POSTGRES, {"DB_PORT": "x"}) == "problem: DB_PORT='x' is not a port number"
    no_default = Backing("postgres", 5432, section="database", variables=[])
    assert (
        where(no_default, {}, {"database": {"host": "db1", "port": "5433"}})
        == "db1:5433 from [database]"
    )
    # Nothing names it: the compose service, which is also the Kubernetes Service.
    assert (
        where(no_default, {}, {"database": {"host": ""}}) == "postgres:5432 from the service name"
    )
    assert where(Backing("redis", 6379), {}) == "redis:6379 from the service name"


def test_a_check_tries_every_host_and_reports_what_is_wrong(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO")
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        environ = {"REDIS_URL": f"redis://127.0.0.1:1,127.0.0.1:{port}/0"}
        (check,) = backing_checks({}, [REDIS], environ)
        check.probe(1.0)  # the second host answers
    assert f"readiness check redis: 127.0.0.1:1, 127.0.0.1:{port} (from REDIS_URL)" in caplog.text
    (broken,) = backing_checks({}, [REDIS], {"REDIS_URL": "redis:///0"})
    with pytest.raises(ConfigError, match="REDIS_URL names no host"):
        broken.probe(1.0)
    assert "readiness check redis cannot probe: REDIS_URL names no host" in caplog.text


def test_a_unix_socket_is_probed(tmp_path: Path) -> None:
    path = tmp_path / "redis.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen()
        (check,) = backing_checks({}, [REDIS], {"REDIS_URL": f"unix://{path}"})
        check.probe(1.0)


def test_an_asgi_app_is_never_served_as_wsgi() -> None:
    async def app(scope: object, receive: object, send: object) -> None:
        pass

    with pytest.raises(RuntimeSetupError, match=r"^api\.main:app is an ASGI app, but"):
        wrap_legacy(app, "wsgi", "api.main:app", check_clashes=False)
    wrapped = wrap_legacy(app, "asgi", "api.main:app", check_clashes=False)
    assert type(wrapped).__name__ == "RuntimeASGI"


def test_an_asgi2_app_is_served_like_an_asgi3_one() -> None:
    """Channels 2 and other ASGI 2 apps: `app(scope)` returns the coroutine function."""

    class Asgi2App:
        def __call__(self, scope: dict[str, object]) -> object:
            async def instance(receive: object, send: Any) -> None:
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"asgi2"})

            return instance

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    wrapped = wrap_legacy(Asgi2App(), "asgi", "chat.asgi:application", check_clashes=False)
    scope = {"type": "http", "method": "GET", "path": "/room", "headers": []}
    asyncio.run(wrapped(scope, receive, send))
    assert [m.get("status") or m.get("body") for m in sent] == [200, b"asgi2"]
