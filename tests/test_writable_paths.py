"""Paths the code writes (logs, SQLite) found in the code, and made writable under a read-only
root: a tmpfs or volume where no code is, a link into a volume for a file beside the code."""

import shutil
from pathlib import Path

import pytest
import yaml

from kubestep.inventory import collect
from kubestep.migrate import migrate
from kubestep.writable import mounts, working_directory
from tests.legacy_repo import GIT_IDENTITY, legacy_copy, write_tree

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def written(root: Path) -> list[tuple[str, str, str]]:
    return [(w.path, w.kind, w.source) for w in collect(root).writable_paths]


def test_paths_built_from_file_and_base_dir_names(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "site/core/__init__.py": "",
            "site/core/settings.py": (
                "import os\nfrom pathlib import Path\n"
                "BASE_DIR = Path(__file__).resolve().parent.parent\n"
                "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3',\n"
                "                         'NAME': BASE_DIR / 'db.sqlite3'}}\n"
                "LOGGING = {'handlers': {'file': {\n"
                "    'class': 'logging.handlers.TimedRotatingFileHandler',\n"
                "    'filename': os.path.join(BASE_DIR, 'logs', 'site.log')}}}\n"
            ),
            "worker.py": (
                "import logging, pathlib\n"
                "logging.FileHandler('/var/log/site/worker.log')\n"
                "pathlib.Path('uploads').mkdir(exist_ok=True)\n"
                "logging.FileHandler('/tmp/worker.log')\n"  # writable already
                "URL = 'sqlite:///:memory:'\n"
                "OTHER = 'sqlite:////srv/data/site.db'\n"
            ),
        },
    )
    assert written(root) == [
        ("site/db.sqlite3", "sqlite", "site/core/settings.py:4"),
        ("site/logs", "dir", "site/core/settings.py:6"),
        ("/var/log/site", "dir", "worker.py:2"),
        ("./uploads", "dir", "worker.py:3"),
        ("/srv/data/site.db", "sqlite", "worker.py:6"),
    ]


def test_a_computed_path_is_not_guessed(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {"app.py": "import logging, os\nlogging.FileHandler(os.environ['LOG_FILE'])\n"},
    )
    assert written(root) == []


def test_mounts_keep_code_read_only(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/app.py": (
                "import logging, os\n"
                "here = os.path.dirname(os.path.abspath(__file__))\n"
                "URL = 'sqlite:///' + os.path.join(here, 'shop.db')\n"
                "os.makedirs('logs', exist_ok=True)\n"
                "logging.FileHandler('shop.log')\n"  # in the working directory: the code's
                "DATA = 'sqlite:///data/orders.db'\n"
            ),
            "logs/.gitkeep": "",
        },
    )
    found = collect(root).to_dict()["writable_paths"]
    argv = ["/bin/sh", "-c", "exec gunicorn shop.app:app"]
    shown = {m["path"]: (m["mount"], m["target"]) for m in mounts(found, argv, "shop")}
    assert shown == {
        "/app/shop/shop.db": ("link", "/var/lib/shop/shop.db"),
        "/app/logs": ("tmpfs", ""),
        "/app": ("note", ""),
        "/app/data": ("volume", ""),
    }


def test_the_working_directory_follows_a_cd() -> None:
    assert working_directory(["/bin/sh", "-c", "cd project && exec gunicorn a:b"]) == "/app/project"
    assert working_directory(["gunicorn", "a:b"]) == "/app"


@pytest.fixture()
def identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("identity")
def test_compose_dockerfile_and_manifests_give_each_path_its_place(tmp_path: Path) -> None:
    repo = legacy_copy(tmp_path / "tally", FIXTURES / "writes-files")
    migrate(repo, "4", out=lambda line: None)
    compose = yaml.safe_load((repo / "compose.yaml").read_text())
    app = compose["services"]["app"]
    assert app["read_only"] is True
    assert app["tmpfs"] == ["/tmp", "/app/logs:uid=10001,gid=10001"]
    assert app["volumes"] == ["app-data:/var/lib/tally"]
    assert "app-data" in compose["volumes"]
    dockerfile = (repo / "Dockerfile").read_text()
    assert (
        "RUN install -d -o 10001 -g 10001 /app/logs /var/lib/tally \\\n"
        "    && mkdir -p /app/tally && ln -s /var/lib/tally/tally.db /app/tally/tally.db\n"
    ) in dockerfile
    assert dockerfile.index("ln -s") < dockerfile.index("COPY . ./")
    assert "tally/tally.db" in (repo / ".dockerignore").read_text().splitlines()
    deployment = yaml.safe_load((repo / "kube/base/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    mounted = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert {"/tmp", "/app/logs", "/var/lib/tally"} <= mounted
    assert {v["name"] for v in pod["volumes"]} >= {"tmp", "written-1", "app-data"}
    readme = (repo / "README.rst").read_text()
    assert "``/app/logs`` (RotatingFileHandler ./logs/tally.log" in readme


@pytest.mark.usefixtures("identity")
def test_platform_directories_go_to_the_volume_by_xdg_variables(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(FIXTURES / "flask-procfile", source)
    (source / "greeter" / "paths.py").write_text(
        "from platformdirs import PlatformDirs\n"
        "DIRS = PlatformDirs('Greeter', ensure_exists=True)\n"
        "MEDIA = DIRS.site_data_path / 'media'\n"
    )
    repo = legacy_copy(tmp_path / "greeter", source)
    migrate(repo, "4", out=lambda line: None)
    dockerfile = (repo / "Dockerfile").read_text()
    assert "XDG_DATA_DIRS=/var/lib/greeter/xdg/share" in dockerfile
    assert "RUN install -d -o 10001 -g 10001 /var/lib/greeter" in dockerfile
    compose = yaml.safe_load((repo / "compose.yaml").read_text())
    assert compose["services"]["app"]["volumes"] == ["app-data:/var/lib/greeter"]
    deployment = yaml.safe_load((repo / "kube/base/deployment.yaml").read_text())
    mounts = deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "app-data", "mountPath": "/var/lib/greeter"} in mounts


def test_a_data_folder_the_repo_keeps_empty_is_written(tmp_path: Path) -> None:
    # Measured on a real app: its handler subclass opens app.config['ERR_LOG'] in logs/, which
    # the code reading does not follow; the repo keeps logs/ with only a .gitkeep.
    root = write_tree(
        tmp_path,
        {
            "app.py": (
                "from handlers import RankFileHandler\n"
                "def setup(app):\n    app.logger.addHandler(RankFileHandler(app.config['LOG']))\n"
            ),
            "logs/.gitkeep": "",
            "static/uploads/.keep": "",
            "migrations/versions/.gitkeep": "",  # not a data folder by its name
            "cache/.gitkeep": "",
            "cache/seed.json": "{}",  # holds a file of the repo: not kept empty
        },
    )
    assert written(root) == [
        ("logs", "dir", "logs/.gitkeep:1"),
        ("static/uploads", "dir", "static/uploads/.keep:1"),
    ]


def test_asset_bundles_built_on_request_write_the_static_folder_and_the_step_says_so(
    tmp_path: Path,
) -> None:
    # Measured on a real app: Flask-Assets made rank/static/.webassets-cache on the first page
    # and the read-only root turned that page into a closed connection.
    source = tmp_path / "source"
    shutil.copytree(FIXTURES / "flask-procfile", source)
    (source / "greeter" / "assets.py").write_text(
        "from flask_assets import Bundle, Environment\n"
        "css = Bundle('css/site.css', filters='cssmin', output='public/site.css')\n"
        "assets = Environment()\n"
    )
    (source / "greeter" / "static" / "css").mkdir(parents=True)
    (source / "greeter" / "static" / "css" / "site.css").write_text("body {}\n")
    assert ("greeter/static", "dir", "greeter/assets.py:1") in written(source)
    repo = legacy_copy(tmp_path / "greeter", source)
    lines: list[str] = []
    migrate(repo, "3", out=lines.append)
    said = (
        "the code writes /app/greeter/static (Flask-Assets builds its bundles and .webassets-cache "
        "there when a page asks"
    )
    assert any(said in line for line in lines)
    assert said in (repo / "README.rst").read_text().replace("\n", " ")
    # It holds the repo's own files: no tmpfs or volume may hide them.
    compose = yaml.safe_load((repo / "compose.yaml").read_text())
    assert "greeter/static" not in str(compose["services"]["app"].get("tmpfs", []))
