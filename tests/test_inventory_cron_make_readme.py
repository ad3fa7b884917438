"""cron files, Makefiles and READMEs."""

from pathlib import Path

from kubestep.inventory import collect
from kubestep.inventory.cron import parse_line

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def test_cron_d_and_crontab_files() -> None:
    inventory = collect(FIXTURES / "ops")
    jobs = [job for job in inventory.cron_jobs if job.manager == "cron"]
    assert [(j.name, j.schedule, j.user) for j in jobs] == [
        ("billing", "30 2 * * *", "billing"),
        ("billing-2", "@hourly", "billing"),
        ("crontab", "0 * * * *", None),
    ]
    assert jobs[0].command == "/opt/billing/venv/bin/python -m billing.invoices"
    assert jobs[0].source == "deploy/billing.cron:2"
    assert [(e.name, e.value) for e in inventory.environment] == [("MAILTO", "ops@example.com")]


def test_bad_cron_lines() -> None:
    assert isinstance(parse_line("*/5 * * legacy /bin/true", with_user=True), str)
    assert isinstance(parse_line("@sometimes legacy /bin/true", with_user=True), str)
    inventory = collect(FIXTURES / "broken")
    assert {"legacy.cron:1", "legacy.cron:2"} <= {w.source for w in inventory.warnings}


def test_makefile_targets_and_recipes() -> None:
    inventory = collect(FIXTURES / "ops")
    targets = {t.name: t for t in inventory.make_targets}
    assert list(targets) == ["run", "test", "lint", "clean"]
    assert targets["run"].recipe == ["$(PY) -m billing.server"]
    assert targets["run"].prerequisites == ["$(VENV)"]
    assert targets["test"].recipe == ["$(PY) -m pytest tests"]  # continuation joined
    assert targets["lint"].recipe == ["flake8 billing"]  # inline ';' recipe
    assert targets["clean"].recipe == ["rm -rf build"]
    assert any(w.source == "Makefile:16" and "tab" in w.message for w in inventory.warnings)


def test_broken_makefile() -> None:
    inventory = collect(FIXTURES / "broken")
    assert {"Makefile:1", "Makefile:3"} <= {w.source for w in inventory.warnings}


def test_readme_markdown_skips_badges() -> None:
    inventory = collect(FIXTURES / "ops")
    assert inventory.readme is not None
    assert (inventory.readme.title, inventory.readme.source) == ("Billing service", "README.md:3")
    assert (
        inventory.readme.description == "Sends invoices every night. Talks to MySQL and RabbitMQ."
    )


def test_readme_rst_with_overlined_title() -> None:
    inventory = collect(FIXTURES / "django_app")
    assert inventory.readme is not None and inventory.readme.title == "My Site"
    assert inventory.service is not None
    assert inventory.service.description == "A Django site that lists the shop's products."
