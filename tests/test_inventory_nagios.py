"""Nagios objects: command resolution, $ARGn$, NRPE, templates, classification."""

from pathlib import Path

from kubestep.inventory import collect
from kubestep.inventory.nagios import substitute
from kubestep.inventory.nagios_checks import count_range

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def test_checks_are_resolved_and_classified() -> None:
    inventory = collect(FIXTURES / "ops")
    checks = {check.name: check for check in inventory.checks}
    assert list(checks) == [
        "billing health",
        "billing workers",
        "billing queue",
        "rabbitmq port",
        "load",
    ]
    health = checks["billing health"]
    assert (health.kind, health.port, health.path, health.expect_status) == (
        "http",
        8081,
        "/healthz",
        204,
    )
    assert health.source == "nagios/billing.cfg:33"
    workers = checks["billing workers"]  # check_nrpe!name runs nrpe.cfg's command
    assert (workers.kind, workers.process, workers.args) == (
        "process",
        "python3",
        ["billing.worker"],
    )
    assert (workers.min, workers.max) == (1, None)
    queue = checks["billing queue"]
    assert (queue.kind, queue.script) == ("custom", "bin/check_queue_depth.py")
    assert (queue.warning, queue.critical) == ("100", "1000")
    assert (checks["rabbitmq port"].kind, checks["rabbitmq port"].port) == ("tcp", 5672)
    assert checks["load"].kind == "system"


def test_broken_objects_are_warnings() -> None:
    inventory = collect(FIXTURES / "broken")
    messages = {w.source: w.message for w in inventory.warnings}
    assert "not a Nagios object line" in messages["nagios/bad.cfg:6"]
    assert "check_missing" in messages["nagios/bad.cfg:8"]
    assert "not closed" in messages["nagios/bad.cfg:13"]


def test_substitute_and_ranges() -> None:
    assert substitute("check -w $ARG1$ -c $ARG2$ $ARG3$", ["1", "2"]) == "check -w 1 -c 2 "
    assert count_range("1:10") == (1, 10)
    assert count_range("2:") == (2, None)
    assert count_range("10") == (0, 10)
    assert count_range("@1:5") == (None, None)
