"""The inventory of examples/legacy-app: the facts every later step relies on."""

import time
from pathlib import Path

import pytest

from kubestep.inventory import collect

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "legacy-app"
pytestmark = pytest.mark.skipif(not EXAMPLE.is_dir(), reason="examples/legacy-app not written yet")


def test_inventory_example() -> None:
    started = time.perf_counter()
    inventory = collect(EXAMPLE)
    assert time.perf_counter() - started < 1.0

    assert inventory.service is not None and inventory.service.name == "legacy-app"
    assert inventory.framework is not None and inventory.framework.value == "flask"
    entry = inventory.entrypoint
    assert entry.app is not None and entry.app.value == "legacy_app.web:application"
    assert entry.app.kind == "wsgi" and entry.app.source.startswith("run.sh:")
    assert entry.server is not None and entry.server.value == "gunicorn"
    assert entry.port is not None and entry.port.value == 8080
    assert entry.workers is not None and (entry.workers.value, entry.workers.env_var) == (
        2,
        "WORKERS",
    )

    services = {s.kind: s for s in inventory.backing_services}
    assert set(services) == {"postgres", "redis"}
    assert services["postgres"].config_section == "database"
    assert services["redis"].config_section == "cache"

    users = [(u.name, u.uid) for u in inventory.users]
    assert ("legacy", 990) in users

    jobs = [job for job in inventory.cron_jobs if job.manager == "cron"]
    assert [(j.schedule, j.user) for j in jobs] == [("*/15 * * * *", "legacy")]
    assert "legacy_app.purge" in jobs[0].command

    checks = {c.kind: c for c in inventory.checks}
    assert len(inventory.checks) == 4
    assert (checks["http"].port, checks["http"].path, checks["http"].expect_status) == (
        8080,
        "/status",
        200,
    )
    assert (checks["process"].process, checks["process"].min, checks["process"].max) == (
        "gunicorn",
        1,
        10,
    )
    assert (checks["disk"].path, checks["disk"].warning, checks["disk"].critical) == (
        "/var/log",
        "20%",
        "10%",
    )
    assert checks["custom"].script == "nagios/check_orders_backlog.sh"

    keys = {(k.section, k.key): k for k in inventory.config.keys}
    host = keys[("database", "host")]
    assert (host.default, host.type, host.env_name) == ("localhost", "str", "DATABASE_HOST")
    assert host.example_value == "db1.internal"
    assert (keys[("database", "port")].default, keys[("database", "port")].type) == (5432, "int")
    assert keys[("cache", "port")].default == 6379
    (config_file,) = inventory.config.files
    assert (config_file.path, config_file.env_var) == (
        "/etc/legacy-app/legacy-app.ini",
        "LEGACY_APP_CONFIG",
    )
    assert config_file.example == "config/legacy-app.ini.example"

    assert inventory.warnings == []
