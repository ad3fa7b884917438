"""Workers, schedulers and the release one-off: decided from every place that starts them."""

from pathlib import Path
from typing import Any

import pytest

from kubestep import decide, decide_processes
from kubestep.answers import answers_from_inventory
from kubestep.errors import InvalidValue
from kubestep.inventory import collect, roles
from kubestep.inventory.plain import to_plain
from kubestep.user_answers import parse_sets

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def candidate(line: str, source: str, origin: str, name: str | None = None, **extra: Any) -> dict:  # type: ignore[type-arg]
    return {**to_plain(roles.candidate(line, source, origin, name=name)), **extra}


def legacy(inventory: dict, user: dict | None = None) -> dict:  # type: ignore[type-arg]
    return answers_from_inventory(inventory, 3, user)["legacy"]  # type: ignore[no-any-return]


def test_a_migration_before_the_server_becomes_the_release_one_off() -> None:
    web = candidate("flask db upgrade; gunicorn -b :$PORT app:app", "Procfile:1", "procfile", "web")
    found = legacy({"start_candidates": [web]})
    assert found["start_argv"] == ["/bin/sh", "-c", "exec gunicorn -b :$PORT app:app"]
    assert found["release"]["argv"] == ["flask", "db", "upgrade"]
    assert found["release"]["sources"] == ["Procfile:1"]
    assert any("flask db upgrade moved from the web command" in c for c in found["start_changes"])


def test_setup_goes_with_both_halves_and_the_workdir_with_both() -> None:
    web = candidate(
        "cd site && python manage.py migrate --noinput && gunicorn site.wsgi",
        "deploy/app.service:5",
        "systemd",
        "site",
        workdir="srv",
    )
    found = legacy({"start_candidates": [web]})
    assert found["start_argv"] == ["/bin/sh", "-c", "cd site && exec gunicorn site.wsgi"]
    assert found["release"]["commands"] == ["cd site && python manage.py migrate --noinput"]


def test_collectstatic_leaves_the_web_command_for_the_image_build() -> None:
    # Run by the web process it fails on the read-only root; the image must hold its files.
    found = legacy(collect(FIXTURES / "procfile-shell").to_dict())
    assert found["start_argv"][2] == (
        "cd src; exec waitress-serve --port=$PORT site.wsgi:application"
    )
    assert found["static_build"]["command"] == "cd src && python manage.py collectstatic --noinput"
    assert found["static_build"]["source"] == "Procfile:2"
    assert any("collectstatic --noinput moved from the web command to the image build" in c
               for c in found["start_changes"])  # fmt: skip
    assert found["release"]["commands"] == ["cd src && python manage.py migrate --noinput"]
    assert [(p["name"], p["role"], p["argv"]) for p in found["processes"]] == [
        ("worker", "worker", ["celery", "-A", "site", "worker", "-l", "info"])
    ]
    # Turned off, it stays where the repo had it: nothing the old command did is dropped.
    kept = legacy(
        collect(FIXTURES / "procfile-shell").to_dict(), parse_sets(["collectstatic=none"])
    )
    assert "collectstatic --noinput; exec waitress-serve" in kept["start_argv"][2]
    assert kept["static_build"] == {}


def test_a_release_commands_collectstatic_goes_to_the_build_and_the_rest_stays() -> None:
    release = candidate(
        "cd site && python manage.py migrate && python manage.py collectstatic --noinput",
        "Procfile:1",
        "procfile",
        "release",
    )
    web = candidate("gunicorn site.wsgi --bind 0.0.0.0:$PORT", "Procfile:2", "procfile", "web")
    found = legacy({"start_candidates": [release, web]})
    assert found["release"]["commands"] == ["cd site && python manage.py migrate"]
    assert found["static_build"]["command"] == (
        "cd site && python manage.py collectstatic --noinput"
    )
    assert any("moved from the release command (Procfile:1) to the image build" in n
               for n in found["notes"])  # fmt: skip
    kept = legacy({"start_candidates": [release, web]}, parse_sets(["collectstatic=none"]))
    assert kept["release"]["commands"] == [release["command"]]


def test_a_manifest_storage_gets_collectstatic_at_build_with_the_keys_it_requires(
    tmp_path: Path,
) -> None:
    # Heroku's buildpack collects at build, so a Heroku app's Procfile never says so.
    write = {
        "Procfile": "web: gunicorn shop.wsgi --bind 0.0.0.0:$PORT\n",
        "requirements.txt": "django==4.2.16\nwhitenoise==6.7.0\ngunicorn==23.0.0\n",
        "web/manage.py": "import os\n",
        "web/shop/settings.py": (
            "import os\nSECRET_KEY = os.environ['SECRET_KEY']\n"
            "DEBUG = os.environ.get('DEBUG', '') == '1'\n"
            "# STATICFILES_STORAGE = 'django.contrib.staticfiles.storage."
            "ManifestStaticFilesStorage'\n"
            "STATICFILES_STORAGE = 'whitenoise.storage.CompressedManifestStaticFilesStorage'\n"
        ),
    }
    for rel, text in write.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    inventory = collect(tmp_path).to_dict()
    assert inventory["collected_static"] == [
        {"value": "web/manage.py", "source": "web/shop/settings.py:5"}
    ]
    found = legacy(inventory)
    assert found["static_build"]["command"] == (
        "cd web && python manage.py collectstatic --noinput"
    )
    assert found["static_build"]["env"] == {"SECRET_KEY": "local-only-secret-key"}
    assert legacy(inventory, parse_sets(["collectstatic=none"]))["static_build"] == {}


def test_a_release_command_after_another_command_stays_where_it_is() -> None:
    line = 'python -c "import app" && flask db upgrade && gunicorn app:app'
    split = decide_processes.split_release(candidate(line, "Procfile:1", "procfile", "web"))
    assert split.release == []
    assert split.web["command"] == line
    assert "'flask db upgrade' stays in the web command (Procfile:1)" in split.notes[0]


@pytest.mark.parametrize(
    "line",
    [
        "flask db upgrade || true; gunicorn app:app",
        "(flask db upgrade) ; gunicorn app:app",
        "until flask db upgrade; do sleep 1; done; gunicorn app:app",
    ],
)
def test_a_line_that_is_not_a_plain_sequence_is_not_split(line: str) -> None:
    split = decide_processes.split_release(candidate(line, "Procfile:1", "procfile", "web"))
    assert (split.release, split.web["command"]) == ([], line)


def test_a_script_run_as_itself_keeps_its_migration_and_says_so() -> None:
    found = legacy(collect(FIXTURES / "container-app").to_dict())
    assert found["start_argv"] == ["./boot.sh"]
    assert found["release"] == {}
    assert (
        "boot.sh runs as itself and keeps running flask db upgrade before its server: "
        "kubestep does not rewrite it into a release one-off"
    ) in found["notes"]


def test_the_same_worker_in_two_places_is_one_process_from_the_surer_place() -> None:
    procfile = candidate("celery -A shop worker -l info", "Procfile:2", "procfile", "worker")
    supervisor = candidate(
        "celery --app=shop worker --loglevel=INFO --concurrency 4",
        "deploy/supervisord.conf:9",
        "supervisor",
        "shop-celery",
    )
    beat = candidate("celery -A shop beat", "deploy/supervisord.conf:14", "supervisor", "beat")
    rq = candidate("rq worker mail", "deploy/rq.service:6", "systemd", "mailer")
    processes, notes = decide_processes.processes(
        {"start_candidates": [supervisor, beat, rq, procfile]}, {}
    )
    assert [(p.name, p.role, p.source, p.also) for p in processes] == [
        ("worker", "worker", "Procfile:2", ["deploy/supervisord.conf:9"]),
        ("beat", "scheduler", "deploy/supervisord.conf:14", []),
        ("mailer", "worker", "deploy/rq.service:6", []),
    ]
    assert notes == []


def test_a_worker_runs_in_the_foreground_logging_to_stdout_in_its_directory() -> None:
    worker = candidate(
        "poetry run celery -A shop worker --detach --logfile=/var/log/shop/celery.log",
        "deploy/celery.service:7",
        "systemd",
        "celery",
        workdir="src",
    )
    (process,), _ = decide_processes.processes({"start_candidates": [worker]}, {})
    assert process.argv == ["/bin/sh", "-c", "cd src && exec celery -A shop worker"]
    assert len(process.changes) == 4  # poetry run, its directory, daemon mode, log file


def test_a_relative_celery_log_file_is_dropped_too() -> None:
    worker = candidate(
        "celery --app=core worker --loglevel=info --logfile=logs/celery.log",
        "docker-compose.yml:20",
        "compose",
        "celery",
    )
    (process,), _ = decide_processes.processes({"start_candidates": [worker]}, {})
    assert process.argv == ["celery", "--app=core", "worker", "--loglevel=info"]


def test_answers_replace_add_and_turn_off_processes_and_the_release() -> None:
    inventory = collect(FIXTURES / "procfile-shell").to_dict()
    user = parse_sets(
        [
            "process.worker=none",
            "process.mailer=python -m site.mailer --queue mail",
            "release_command=python manage.py migrate && python manage.py createcachetable",
        ]
    )
    found = legacy(inventory, user)
    assert [(p["name"], p["source"]) for p in found["processes"]] == [
        ("mailer", ".kubestep/answers.yml")
    ]
    assert found["release"]["argv"][-1] == (
        "python manage.py migrate && exec python manage.py createcachetable"
    )
    assert legacy(inventory, parse_sets(["release_command=none"]))["release"] == {}


def test_answers_that_cannot_hold_are_refused() -> None:
    with pytest.raises(InvalidValue, match="is not a valid name"):
        parse_sets(["process.Not_A_Name=celery -A x worker"])
    with pytest.raises(InvalidValue, match="quotes do not pair up"):
        parse_sets(["release_command=flask 'db upgrade"])
    inventory = collect(FIXTURES / "procfile-shell").to_dict()
    with pytest.raises(InvalidValue, match="'app' is taken"):
        legacy(inventory, parse_sets(["process.app=celery -A x worker"]))


def test_a_procfile_line_kubestep_cannot_place_is_named_not_dropped() -> None:
    web = candidate("gunicorn app:app", "Procfile:1", "procfile", "web")
    bot = candidate("python bot.py", "Procfile:2", "procfile", "bot")
    found = legacy({"start_candidates": [web, bot]})
    assert found["processes"] == []
    assert any("'bot' process" in n and "process.bot=" in n for n in found["notes"])


def test_a_templated_worker_with_no_plain_twin_asks_for_an_answer() -> None:
    worker = candidate(
        "{{ venv }}/bin/celery -A shop worker", "ansible/tasks.yml:12", "ansible", "celery"
    )
    processes, notes = decide_processes.processes({"start_candidates": [worker]}, {})
    assert processes == []
    assert "--set process.celery=" in notes[0]


def test_signature_ignores_log_level_and_paths_not_app_or_queues() -> None:
    same = decide_processes.signature
    assert same("celery -A a worker -l info") == same("bin/celery --app=a worker --loglevel=debug")
    assert same("celery -A a worker") != same("celery -A b worker")
    assert same("rq worker high") != same("rq worker low")
    assert same("rq worker --burst high") != same("rq worker --burst low")
    assert same("rq worker --url redis://r:6379 high") == same("rq worker high")


def test_the_web_decision_is_unchanged_for_a_line_without_release_commands() -> None:
    web = candidate("gunicorn -w 2 app:app", "Procfile:1", "procfile", "web")
    split = decide_processes.split_release(web)
    assert (split.web, split.release, split.notes) == (web, [], [])
    assert decide.container_argv(split.web) == ["gunicorn", "-w", "2", "app:app"]
