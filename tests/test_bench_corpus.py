"""bench/corpus.py's pure parts: the corpus file, the export of a tree, the outcome lines."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load_corpus_module():
    spec = importlib.util.spec_from_file_location("bench_corpus", BENCH / "corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_corpus"] = module
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus_module()
COMMIT = "a" * 40


def test_the_committed_corpus_parses_with_at_least_12_distinct_repositories():
    entries = corpus.parse_corpus((BENCH / "corpus.txt").read_text())
    assert len(entries) >= 12
    assert len({e.repo for e in entries}) == len(entries)
    assert all(e.notes for e in entries)


def test_a_line_gives_repo_commit_and_notes_and_comments_are_skipped():
    entries = corpus.parse_corpus(f"# header\n\nowner/name {COMMIT}  # Flask; Procfile\n")
    assert entries == [corpus.Entry("owner/name", COMMIT, "Flask; Procfile")]
    assert entries[0].slug == "owner+name"
    assert entries[0].project == "corpus-owner-name"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"owner/name {COMMIT} extra", "line 1: want"),
        (f"owner-name {COMMIT}", "is not owner/name"),
        ("owner/name abc123", "is not a 40-digit commit"),
        (f"a/b {COMMIT}\na/b {COMMIT}", "line 2: a/b is listed twice"),
    ],
)
def test_a_malformed_line_is_named_by_its_number(text, message):
    with pytest.raises(ValueError, match=message):
        corpus.parse_corpus(text)


def test_the_outcome_of_a_traceback_is_its_last_line():
    output = "step 2\nTraceback (most recent call last):\n  File \"x\", line 1\nKeyError: 'port'\n"
    assert corpus.first_error_line(output) == "Traceback: KeyError: 'port'"


def test_the_outcome_of_a_one_line_error_is_that_line():
    assert corpus.first_error_line("reading\nerror: no web service found\n") == (
        "error: no web service found"
    )


def test_a_failed_pull_names_the_dockerfile_line_that_pulled():
    output = (
        "Step 1/12 : FROM python:slim\n"
        'Get "https://registry-1.docker.io/v2/": dial tcp: no such host\n'
        "make: *** [make/docker.mk:24: docker_build] Error 1\n"
    )
    assert corpus.build_error(output).startswith('FROM python:slim: Get "https://registry')


def test_a_failed_pip_install_names_the_package_and_its_error():
    output = (
        "Step 6/19 : RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r r.txt\n"
        "Collecting Flask==0.10.1\n"
        "Collecting psycopg2==2.8.3 (from -r r.txt (line 2))\n"
        "\x1b[91m      Error: pg_config executable not found.\x1b[0m\n"
        "error: metadata-generation-failed\n"
    )
    assert corpus.build_error(output) == ("psycopg2==2.8.3: Error: pg_config executable not found.")


def test_a_failed_compilation_names_the_c_error_not_gcc_s_exit_code():
    output = (
        "Step 6/19 : RUN /opt/venv/bin/pip install --requirement /tmp/requirements.txt\n"
        "  Running setup.py install for psycopg2-binary: finished with status 'error'\n"
        "      psycopg/psycopgmodule.c:920:36: error: lvalue required as left operand\n"
        "      error: command '/usr/bin/x86_64-linux-gnu-gcc' failed with exit code 1\n"
    )
    assert corpus.build_error(output) == (
        "psycopg2-binary: psycopg/psycopgmodule.c:920:36: error: lvalue required as left operand"
    )


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **corpus.GIT_IDENTITY}
    done = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def test_export_writes_the_tree_and_lists_blobs_missing_from_the_snapshot(tmp_path):
    source = tmp_path / "source"
    (source / "app").mkdir(parents=True)
    (source / "app" / "main.py").write_text("print('hi')\n")
    (source / "big.bin").write_bytes(b"\0" * 1000)
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    _git(source, "init", "-q")
    _git(source, "add", ".")
    _git(source, "commit", "-q", "-m", "one")
    commit = _git(source, "rev-parse", "HEAD")
    big = _git(source, "rev-parse", "HEAD:big.bin")
    (source / ".git" / "objects" / big[:2] / big[2:]).unlink()  # as a snapshot without it

    dest = tmp_path / "dest"
    missing = corpus.export_from_git(source / ".git", commit, dest)

    assert missing == ["big.bin"]
    assert (dest / "app" / "main.py").read_text() == "print('hi')\n"
    assert os.access(dest / "run.sh", os.X_OK)
    assert not (dest / "big.bin").exists()


def test_a_fresh_checkout_is_a_clean_git_repo_with_one_commit(tmp_path):
    exported = tmp_path / "trees" / "owner+name"
    exported.mkdir(parents=True)
    (exported / "app.py").write_text("app = None\n")
    entry = corpus.Entry("owner/name", COMMIT)
    dest = tmp_path / "work" / "owner+name"

    note = corpus.fresh_checkout(entry, dest, corpus.Sources(tmp_path / "trees", None, False))

    assert note.startswith("from ")
    assert _git(dest, "status", "--porcelain") == ""
    assert _git(dest, "rev-list", "--count", "HEAD") == "1"


def test_a_fresh_checkout_keeps_the_date_of_the_upstream_commit(tmp_path):
    # kubestep resolves open requirements as of their last commit: the one commit must carry
    # the upstream date, not the day the corpus ran.
    first = tmp_path / "first" / "owner+name"
    first.mkdir(parents=True)
    (first / "requirements.txt").write_text("flask\n")
    entry = corpus.Entry("owner/name", COMMIT)
    corpus.make_one_commit_repo(first, entry, "2024-05-01T10:00:00+00:00")
    dest = tmp_path / "work" / "owner+name"

    corpus.fresh_checkout(entry, dest, corpus.Sources(tmp_path / "first", None, False))

    assert _git(dest, "log", "-1", "--format=%cI %aI") == (
        "2024-05-01T10:00:00+00:00 2024-05-01T10:00:00+00:00"
    )


def test_no_source_at_all_is_a_clear_error(tmp_path):
    entry = corpus.Entry("owner/name", COMMIT)
    with pytest.raises(RuntimeError, match="give --source, --mirror or --clone"):
        corpus.fresh_checkout(entry, tmp_path / "x", corpus.Sources(None, None, False))


def test_an_app_log_tail_without_the_traceback_start_gives_the_exception_line():
    tail = (
        '  File "/opt/venv/lib/python3.11/site-packages/sqlalchemy/engine/default.py", line 616\n'
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file\n"
        "Deploy command failed, retrying in 5 secs...\n"
    )
    assert corpus.first_error_line(tail).startswith("sqlalchemy.exc.OperationalError: ")


def test_a_gunicorn_boot_failure_gives_the_app_s_exception_not_halt_server():
    log = (
        "[ERROR] Exception in worker process\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/venv/lib/python3.11/site-packages/flask/app.py", line 3\n'
        "AttributeError: module 'collections' has no attribute 'MutableMapping'\n"
        "Traceback (most recent call last):\n"
        "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>\n"
    )
    assert corpus.first_error_line(log) == (
        "Traceback: AttributeError: module 'collections' has no attribute 'MutableMapping'"
    )


def test_the_probe_route_is_the_sample_route_then_the_status_path_then_slash(tmp_path):
    assert corpus.probe_route(tmp_path) == ("/", "no route in the inventory")
    (tmp_path / ".copier-answers.yml").write_text("legacy:\n  status_path: /status\n")
    assert corpus.probe_route(tmp_path) == ("/status", "inventory status_path")
    (tmp_path / ".copier-answers.yml").write_text("legacy:\n  sample_route: /api/tags\n")
    assert corpus.probe_route(tmp_path) == ("/api/tags", "a route in the code")


def test_the_ready_path_follows_the_probe_paths_kubestep_chose(tmp_path):
    assert corpus.ready_path(tmp_path) == "/ready"
    (tmp_path / ".copier-answers.yml").write_text("legacy:\n  probe_paths:\n    ready: /readyz\n")
    assert corpus.ready_path(tmp_path) == "/readyz"


def test_the_decided_python_comes_from_the_answers_and_other_minors_are_flagged(tmp_path):
    assert corpus.decided_python(tmp_path) == "-"
    (tmp_path / ".copier-answers.yml").write_text(
        "legacy:\n  python:\n    version: '3.6'\n    reason: runtime.txt\n"
    )
    assert corpus.decided_python(tmp_path) == "3.6"
    assert corpus.needs_other_python("3.6")
    assert not corpus.needs_other_python("3.11")
    assert not corpus.needs_other_python("-")


def test_kubestep_s_own_stop_line_is_told_from_compose_s_errors():
    line = (
        "error: ELASTICSEARCH_IMAGE: image es:8 is not here and cannot be pulled (no such host);"
        " build or mirror one and set ELASTICSEARCH_IMAGE, or, if the app copes without it,"
        " leave it out: inv migrate --step 3 --target /r --set without=elasticsearch"
    )
    assert corpus.kubestep_stop(f"+ make backing_images\n{line}\nmake: *** Error 1\n") == line
    assert corpus.kubestep_stop("error: the local service did not come up healthy\n") is None


def test_the_pins_a_stop_line_names_are_read_as_a_user_reads_them():
    line = (
        "error: the requirements pin SQLAlchemy==1.0.8 (requirements/prod.txt:18): before 1.2.13"
        " it uses collections.MutableMapping, gone in 3.10; raise it to >=1.2.13; wsgiref==0.1.2"
        " (requirements.txt:6): a Python 2 backport of the standard library: Python 3 has it"
        " built in; remove it: kubestep's image runs Python 3.11, so the build would fail"
    )
    fixes = corpus.pin_fixes(line)
    assert [(f.path, f.line, f.spec, f.minimum) for f in fixes] == [
        ("requirements/prod.txt", 18, "SQLAlchemy==1.0.8", "1.2.13"),
        ("requirements.txt", 6, "wsgiref==0.1.2", None),
    ]
    assert [f.shown for f in fixes] == ["SQLAlchemy==1.0.8 -> >=1.2.13", "wsgiref==0.1.2 removed"]


def test_the_pin_a_plus_one_stop_names_is_read_the_same_way():
    line = (
        "error: step +1: the app pins gunicorn==20.0.4 (requirements.txt:27): the runtime starts"
        " `kubestep_app:create_application()`, an app factory call gunicorn reads from 20.1;"
        " raise it to >=20.1, commit, and run the step again"
    )
    fixes = corpus.pin_fixes(line)
    assert [(f.path, f.line, f.spec, f.minimum) for f in fixes] == [
        ("requirements.txt", 27, "gunicorn==20.0.4", "20.1")
    ]
