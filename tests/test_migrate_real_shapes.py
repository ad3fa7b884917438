"""Step 2 on fixtures of real repositories' shapes: one Dockerfile that builds what they run."""

from pathlib import Path

import pytest
import yaml

from kubestep.errors import KubestepError, StepError
from kubestep.migrate import migrate
from tests.legacy_repo import GIT_IDENTITY, git, legacy_copy, write_tree

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


@pytest.fixture(autouse=True)
def identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def migrated(tmp_path: Path, name: str, step: str = "2", sets: list[str] | None = None) -> Path:
    repo = legacy_copy(tmp_path / name, FIXTURES / name)
    migrate(repo, step, out=lambda line: None, sets=sets or [])
    return repo


def test_a_repo_with_its_own_dockerfile_and_includes(tmp_path: Path) -> None:
    repo = migrated(tmp_path, "container-app", "3")
    dockerfile = (repo / "Dockerfile").read_text()
    assert "COPY requirements/base.txt /tmp/requirements/requirements/" in dockerfile
    assert "--requirement /tmp/requirements/requirements/base.txt" in dockerfile
    assert "libpq-dev" in dockerfile and 'CMD ["./boot.sh"]' in dockerfile
    assert "EXPOSE 5000" in dockerfile
    assert "ENV APP_MODE=production" in dockerfile  # the ENV its own Dockerfile set
    original = (FIXTURES / "container-app" / "Dockerfile").read_text()
    assert (repo / "Dockerfile.legacy").read_text() == original
    compose = (FIXTURES / "container-app" / "docker-compose.yml").read_text()
    assert (repo / "docker-compose.legacy.yml").read_text() == compose
    assert not (repo / "docker-compose.yml").exists()
    message = git(repo, "log", "-2", "--format=%B")
    assert "Dockerfile.legacy (your Dockerfile, word for word" in message
    assert ".dockerignore (keeps .env out of the image though the app reads it" in message


def test_a_poetry_app_installs_its_dependencies_by_name(tmp_path: Path) -> None:
    dockerfile = (migrated(tmp_path, "upstart-gunicorn") / "Dockerfile").read_text()
    assert "install 'flask>=2.3,<3.0' 'gunicorn>=21.2,<22.0'" in dockerfile
    assert "COPY . /tmp/project/" not in dockerfile
    assert "requirements.txt" not in dockerfile
    assert "--bind 0.0.0.0:${PORT}" in dockerfile
    assert "# Changed for the container: --bind 0.0.0.0:$PORT added" in dockerfile


def test_a_pipfile_is_installed_from_its_packages(tmp_path: Path) -> None:
    dockerfile = (migrated(tmp_path, "supervisor-uwsgi") / "Dockerfile").read_text()
    assert "/opt/venv/bin/python install flask==2.3.3 uwsgi rq==1.15.1" in dockerfile
    assert "COPY requirements" not in dockerfile


def test_a_server_only_config_management_installed_is_added_to_the_image(tmp_path: Path) -> None:
    # The old box got uwsgi from an Ansible pip task, not from the requirements the image installs.
    repo = write_tree(
        tmp_path / "boxed",
        {
            "requirements.txt": "flask==3.0.3\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
            "devops/webserver.yml": (
                "- hosts: web\n  tasks:\n"
                "    - pip: name=uwsgi virtualenv=/srv/venv\n"
                "    - pip: requirements=/srv/app/requirements.txt virtualenv=/srv/venv\n"
            ),
            "devops/supervisor.conf": (
                "[program:app]\n"
                "command=/usr/local/bin/uwsgi --socket /tmp/app.sock --wsgi-file app.py"
                " --callable app\n"
            ),
        },
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "The legacy service")
    migrate(repo, "2", out=lambda line: None)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "uwsgi==2.0.28" in dockerfile
    assert "exec uwsgi --http-socket :${PORT}" in dockerfile


def test_a_repo_with_no_web_process_stops_with_one_line_and_no_commit(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "no-web", FIXTURES / "no-web")
    with pytest.raises(StepError, match=r"^no web service found in .*no-web \(looked at: "):
        migrate(repo, "2", out=lambda line: None)
    assert git(repo, "log", "--format=%s") == "The legacy service"


def test_an_unsure_start_stops_until_answered_and_the_answer_is_kept(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "two-servers", FIXTURES / "two-servers")
    with pytest.raises(StepError, match=r"cannot decide start_command: several commands"):
        migrate(repo, "2", out=lambda line: None)
    assert git(repo, "log", "--format=%s") == "The legacy service"
    migrate(repo, "1", out=lambda line: None)  # step 1 needs no start command
    migrate(repo, "2", out=lambda line: None, sets=["start_command=gunicorn admin.wsgi:app"])
    assert 'CMD ["gunicorn", "admin.wsgi:app"]' in (repo / "Dockerfile").read_text()
    assert "start_command: gunicorn admin.wsgi:app" in (repo / ".kubestep/answers.yml").read_text()
    migrate(repo, "3", out=lambda line: None)  # the answer holds for later steps
    assert 'CMD ["gunicorn", "admin.wsgi:app"]' in (repo / "Dockerfile").read_text()


def test_a_bad_answer_is_one_line(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "two-servers", FIXTURES / "two-servers")
    with pytest.raises(KubestepError, match=r"--set 'colour=blue': use key=value with a key among"):
        migrate(repo, "2", out=lambda line: None, sets=["colour=blue"])
    with pytest.raises(KubestepError, match=r"is not a valid port|port"):
        migrate(repo, "2", out=lambda line: None, sets=["port=80"])


@pytest.mark.parametrize("name", ["container-app", "procfile-shell", "upstart-gunicorn"])
def test_running_a_done_step_again_changes_nothing(tmp_path: Path, name: str) -> None:
    repo = migrated(tmp_path, name, "3")
    head = git(repo, "rev-parse", "HEAD")
    migrate(repo, "3", out=lambda line: None)
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""


def test_no_dependencies_copies_none_and_says_where_it_looked(tmp_path: Path) -> None:
    lines: list[str] = []
    repo = legacy_copy(tmp_path / "no-requirements", FIXTURES / "no-requirements")
    migrate(repo, "2", out=lines.append)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "COPY requirements" not in dockerfile
    # The old box had gunicorn system-wide: the image installs kubestep's pin of it, and says so.
    assert "install gunicorn==23.0.0" in dockerfile
    assert 'CMD ["gunicorn", "--bind", "0.0.0.0:8081", "hello:application"]' in dockerfile
    warnings = [line for line in lines if line.startswith("  warning: ")]
    assert any("no Python dependencies found (looked at: requirements*.txt" in w for w in warnings)
    assert any(
        "runs gunicorn, which no dependency declares (the old box installed it outside the app):"
        " the image installs gunicorn==23.0.0" in w
        for w in warnings
    )
    assert "which no dependency declares" in (repo / "README.rst").read_text()


def test_a_required_variable_without_default_is_a_placeholder_said_everywhere(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    (source / "greeter").mkdir(parents=True)
    for path in (FIXTURES / "flask-procfile").rglob("*"):
        if path.is_file():
            target = source / path.relative_to(FIXTURES / "flask-procfile")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (source / "greeter" / "settings.py").write_text(
        "import os\n\nGREETING_STYLE = os.environ['GREETING_STYLE']\n"
    )
    lines: list[str] = []
    repo = legacy_copy(tmp_path / "greeter", source)
    migrate(repo, "3", out=lines.append)
    local_env = (repo / "config" / "local.env").read_text()
    assert "GREETING_STYLE=REQUIRED-set-GREETING_STYLE-in-config/local.env" in local_env
    assert any("set GREETING_STYLE, required, no default" in line for line in lines)
    assert "* ``GREETING_STYLE`` (required, no default" in (repo / "README.rst").read_text()


def test_a_start_command_answer_with_broken_quotes_is_one_line(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "two-servers", FIXTURES / "two-servers")
    with pytest.raises(KubestepError, match=r"its quotes do not pair up"):
        migrate(repo, "2", out=lambda line: None, sets=['start_command=gunicorn "app:app'])
    assert git(repo, "log", "--format=%s") == "The legacy service"


def test_a_backing_service_can_be_left_out_by_answer(tmp_path: Path) -> None:
    source = write_tree(
        tmp_path / "source",
        {
            "Procfile": "web: gunicorn search:app\n",
            "requirements.txt": "flask==3.1.3\ngunicorn==23.0.0\nelasticsearch==8.13.0\n"
            "redis==5.0.8\n",
            "search.py": (
                "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
                "ES = os.environ.get('ELASTICSEARCH_URL')  # search is off without it\n"
                "REDIS = os.environ.get('REDIS_URL', 'redis://localhost:6379/0')\n"
            ),
        },
    )
    repo = legacy_copy(tmp_path / "search", source)
    migrate(repo, "3", out=lambda line: None)
    assert "elasticsearch:" in (repo / "compose.yaml").read_text()
    migrate(repo, "3", out=lambda line: None, sets=["without=elasticsearch"])
    compose = (repo / "compose.yaml").read_text()
    assert "elasticsearch" not in compose and "redis:" in compose
    local_env = (repo / "config" / "local.env").read_text().splitlines()
    assert "# ELASTICSEARCH_URL=" in local_env and "REDIS_URL=redis://redis:6379/0" in local_env
    assert "without: elasticsearch" in (repo / ".kubestep" / "answers.yml").read_text()
    with pytest.raises(KubestepError, match="name backing services among postgres"):
        migrate(repo, "3", out=lambda line: None, sets=["without=elastic"])


def test_an_answer_that_changes_nothing_on_a_done_step_commits_nothing(tmp_path: Path) -> None:
    repo = migrated(tmp_path, "flask-procfile", "3")
    head = git(repo, "rev-parse", "HEAD")
    migrate(repo, "3", out=lambda line: None, sets=["port=8000"])
    migrate(repo, "3", out=lambda line: None, sets=["port=8000"])
    assert len(git(repo, "log", "--format=%H", f"{head}..HEAD").split()) <= 1
    assert git(repo, "status", "--porcelain") == ""


def test_the_run_local_healthcheck_passes_below_500_and_says_what_it_got(tmp_path: Path) -> None:
    import http.server
    import subprocess
    import sys
    import threading

    repo = legacy_copy(tmp_path / "greeter", FIXTURES / "flask-procfile")
    migrate(repo, "3", out=lambda line: None)
    test = yaml.safe_load((repo / "compose.yaml").read_text())["services"]["app"]["healthcheck"]
    assert test["test"][:3] == ["CMD", "python", "-c"]
    script = test["test"][3]
    status = {"code": 404}

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status["code"])
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    probe = script.replace("http://127.0.0.1:8000", url)
    assert probe != script
    try:
        assert subprocess.run([sys.executable, "-c", probe]).returncode == 0  # an app that is up
        status["code"] = 500
        failed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert failed.returncode == 1
        assert failed.stderr.strip() == f"GET {url}: HTTP 500"
    finally:
        server.shutdown()
