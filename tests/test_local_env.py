"""config/local.env for a migrated service: what the code reads, wired to compose services."""

from pathlib import Path

import pytest

from kubestep.inventory import collect
from kubestep.local_env import PLACEHOLDER, local_env

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def by_name(env_vars: list[dict[str, object]], kinds: list[str]) -> dict[str, object]:
    return {entry.name: entry.value for entry in local_env(env_vars, kinds)}


def test_backing_service_variables_point_at_compose_in_the_form_the_code_reads() -> None:
    env_vars = [
        {"name": "DATABASE_URL", "default": "postgres://localhost/shop", "source": "a.py:1"},
        {"name": "REDIS_URL", "source": "a.py:2"},
        {"name": "DB_HOST", "default": "localhost", "source": "a.py:3"},
        {"name": "DB_PORT", "default": "5432", "source": "a.py:4"},
        {"name": "DB_PASSWORD", "source": "a.py:5"},
        {"name": "CELERY_BROKER_URL", "source": "a.py:6"},
    ]
    assert by_name(env_vars, ["postgres", "redis"]) == {
        "DATABASE_URL": "postgres://app:local-only-password@postgres:5432/app",  # its scheme
        "REDIS_URL": "redis://redis:6379/0",
        "DB_HOST": "postgres",
        "DB_PORT": "5432",
        "DB_PASSWORD": "local-only-password",
        "CELERY_BROKER_URL": "redis://redis:6379/0",  # a broker on Redis: no RabbitMQ
    }


def test_required_defaults_secrets_and_non_string_defaults() -> None:
    env_vars = [
        {"name": "APP_SETTINGS", "required": True, "source": "app.py:3"},
        {"name": "SECRET_KEY", "required": True, "source": "app.py:4"},
        {"name": "API_TOKEN", "source": "app.py:5"},
        {"name": "GREETING", "default": "hello", "source": "app.py:6"},
        {"name": "DEBUG", "default": False, "source": "app.py:7"},
        {"name": "SENTRY_DSN", "source": "app.py:8"},
    ]
    assert by_name(env_vars, []) == {
        "APP_SETTINGS": PLACEHOLDER.format(name="APP_SETTINGS"),
        "SECRET_KEY": "local-only-secret-key",
        "API_TOKEN": None,
        "GREETING": "hello",
        "DEBUG": None,  # the string "False" would be truthy: left to the code's default
        "SENTRY_DSN": None,
    }


def test_reads_without_default_are_required(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(
        "import os\n"
        "import environ\n"
        "from decouple import config\n"
        "env = environ.Env()\n"
        "A = os.environ['NEEDED']\n"
        "B = os.environ.get('OPTIONAL')\n"
        "C = env('DJANGO_SECRET')\n"
        "D = env.bool('FEATURE', default=False)\n"
        "E = config('TIMEOUT', default='5')\n"
        "os.environ['WRITTEN'] = 'x'\n"
    )
    found = {e.name: (e.default, e.required) for e in collect(tmp_path).config.env_vars}
    assert found == {
        "NEEDED": (None, True),
        "OPTIONAL": (None, None),
        "DJANGO_SECRET": (None, True),
        "FEATURE": (False, None),
        "TIMEOUT": ("5", None),
    }


def test_a_log_to_stdout_switch_is_on_and_a_dereferenced_read_is_required(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(
        "import os\n"
        "HOSTS = os.environ.get('ALLOWED_HOSTS').split(' ')\n"
        "STDOUT = os.environ.get('LOG_TO_STDOUT')\n"
    )
    env_vars = [
        {"name": e.name, "default": e.default, "required": e.required, "source": e.source}
        for e in collect(tmp_path).config.env_vars
    ]
    assert by_name(env_vars, []) == {
        "ALLOWED_HOSTS": PLACEHOLDER.format(name="ALLOWED_HOSTS"),
        "LOG_TO_STDOUT": "1",
    }


def test_wiring_from_the_setting_fed_the_default_scheme_and_libpq_names() -> None:
    env_vars = [
        {"name": "CONN", "feeds": "SQLALCHEMY_DATABASE_URI", "source": "a.py:1"},
        {"name": "LEGACY_AT", "feeds": "DATABASES.legacy.HOST", "source": "a.py:2"},
        {"name": "QUEUE", "default": "redis://localhost:6379/1", "source": "a.py:3"},
        {"name": "SQL_ENGINE", "default": "django.db.backends.sqlite3", "source": "a.py:4"},
        {"name": "SQL_DATABASE", "default": "db.sqlite3", "source": "a.py:5"},
        {"name": "PGHOST", "required": True, "source": "a.py:6"},
        {"name": "PGDATABASE", "required": True, "source": "a.py:7"},
        {"name": "STORE", "default": "mysql+pymysql://localhost/x", "source": "a.py:8"},
        {"name": "CACHE_REDIS_URL", "source": "a.py:9"},
        {"name": "TITLE", "feeds": "DATABASES.default.OPTIONS.title", "source": "a.py:10"},
    ]
    assert by_name(env_vars, ["postgres", "redis"]) == {
        "CONN": "postgresql://app:local-only-password@postgres:5432/app",
        "LEGACY_AT": "postgres",
        "QUEUE": "redis://redis:6379/0",
        "SQL_ENGINE": "django.db.backends.postgresql",
        "SQL_DATABASE": "app",
        "PGHOST": "postgres",
        "PGDATABASE": "app",
        "STORE": "mysql+pymysql://localhost/x",  # no MySQL service: the code's default
        "CACHE_REDIS_URL": "redis://redis:6379/0",
        "TITLE": None,
    }
    assert by_name(env_vars[3:4], ["mysql"])["SQL_ENGINE"] == "django.db.backends.mysql"
    assert by_name(env_vars[3:4], [])["SQL_ENGINE"] == "django.db.backends.sqlite3"


def test_kinds_the_catalog_runs_are_wired_and_others_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kubestep import local_env as module
    from kubestep.catalog import CATALOG

    env_vars = [
        {"name": "MONGO_URI", "required": True, "source": "a.py:1"},
        {"name": "ELASTICSEARCH_URL", "source": "a.py:2"},
    ]
    assert by_name(env_vars, ["mongodb", "elasticsearch"]) == {
        "MONGO_URI": CATALOG["mongodb"].local_url,
        "ELASTICSEARCH_URL": CATALOG["elasticsearch"].local_url,
    }
    # A kind compose does not run is left to the user, never pointed at a missing service.
    catalog = {kind: service for kind, service in CATALOG.items() if kind != "mongodb"}
    monkeypatch.setattr(module, "CATALOG", catalog)
    assert by_name(env_vars, ["mongodb"])["MONGO_URI"] == PLACEHOLDER.format(name="MONGO_URI")


def test_a_config_class_selector_names_the_class_for_a_local_run() -> None:
    choices = ["config.Base", "config.DevelopmentConfig", "config.ProductionConfig"]
    entries = local_env(
        [{"name": "APP_SETTINGS", "required": True, "choices": choices, "source": "app.py:3"}], []
    )
    assert [(e.name, e.value, e.unset) for e in entries] == [
        ("APP_SETTINGS", "config.DevelopmentConfig", False)
    ]
    both = ["config.DevConfig", "config.LocalConfig", "config.LiveConfig"]
    entries = local_env(
        [{"name": "APP_SETTINGS", "required": True, "choices": both, "source": "app.py:3"}], []
    )
    assert entries[0].unset and "config.DevConfig, config.LocalConfig" in entries[0].why
    default = [{"name": "CONFIG", "default": "config.LiveConfig", "choices": both, "source": "x"}]
    assert by_name(default, []) == {"CONFIG": "config.LiveConfig"}  # the code's own choice


def test_a_pydantic_app_gets_its_database_url_and_a_local_secret(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("fastapi\nasyncpg\npydantic<2\n")
    (tmp_path / "settings.py").write_text(
        "from pydantic import BaseSettings, SecretStr\n"
        "class AppSettings(BaseSettings):\n"
        "    database_url: str\n"
        "    jwt_secret: SecretStr\n"
        "    upstream_api: str\n"
        "    title: str = 'shop'\n"
    )
    env_vars = [
        {"name": e.name, "default": e.default, "required": e.required, "source": e.source}
        for e in collect(tmp_path).config.env_vars
    ]
    assert by_name(env_vars, ["postgres"]) == {
        "DATABASE_URL": "postgresql://app:local-only-password@postgres:5432/app",
        "JWT_SECRET": "local-only-jwt-secret",
        "UPSTREAM_API": PLACEHOLDER.format(name="UPSTREAM_API"),
        "TITLE": "shop",
    }


def test_required_values_from_the_repos_own_development_sample(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text(
        "import os\n"
        "class Config:\n"
        "    FEED = os.environ['FEED_ADDRESS']\n"
        "    HOSTS = os.environ.get('SITE_HOSTS').split(',')\n"
        "    TOKEN = os.environ['UPSTREAM_TOKEN']\n"
        "    CHANNEL = os.environ['CHANNEL']\n"
        "class LocalConfig(Config):\n"
        "    DEBUG = True\n"
        "class DevConfig(Config):\n"
        "    DEBUG = True\n"
    )
    (tmp_path / "web.py").write_text(
        "import os\nimport flask\napp = flask.Flask(__name__)\n"
        "app.config.from_object(os.environ['APP_CLASS'])\n"
        "ALLOWED_HOSTS = os.environ['WEB_HOSTS'].split()\n"
    )
    (tmp_path / ".env.example").write_text(
        "# for development\n"
        "export FEED_ADDRESS='http://localhost:9000/feed'  \n"
        "UPSTREAM_TOKEN=abc123secretvalue\n"
        "APP_CLASS=config.DevConfig\n"
        "CHANNEL=$OTHER\n"
    )
    (tmp_path / ".env.prod").write_text("SITE_HOSTS=shop.example.com\nCHANNEL=live\n")
    env_vars = collect(tmp_path).to_dict()["config"]["env_vars"]
    assert by_name(env_vars, []) == {
        "FEED_ADDRESS": "http://localhost:9000/feed",
        "SITE_HOSTS": PLACEHOLDER.format(name="SITE_HOSTS"),  # production's value is not local
        "UPSTREAM_TOKEN": "local-only-upstream-token",  # never a sample's secret
        "CHANNEL": PLACEHOLDER.format(name="CHANNEL"),  # a reference, not a value
        "APP_CLASS": "config.DevConfig",  # the sample picks among two local classes
        "WEB_HOSTS": "*",
    }


def test_a_framework_signing_key_without_default_gets_a_local_only_value() -> None:
    env_vars = [
        {"name": "DJANGO_KEY_SECRET", "feeds": "SECRET_KEY", "source": "settings.py:3"},
        {"name": "API_SECRET", "feeds": "API_SECRET", "source": "settings.py:4"},
    ]
    assert by_name(env_vars, []) == {
        "DJANGO_KEY_SECRET": "local-only-django-key-secret",
        "API_SECRET": None,  # the code copes without it
    }


def test_the_platforms_own_variables_are_not_the_apps_configuration(tmp_path: Path) -> None:
    # Measured: a desktop-era helper read USER, APPDATA and PATH; local.env then set
    # PATH=REQUIRED-set-PATH-..., which would have broken every command in the container.
    (tmp_path / "paths.py").write_text(
        "import os, sys\n"
        "if sys.platform == 'win32':\n"
        "    d = os.environ['APPDATA']\n"
        "else:\n"
        "    d = os.path.expanduser('~' + os.environ['USER'])\n"
        "SEARCH = os.environ['PATH'].split(os.pathsep)\n"
        "DB = os.environ['BAUBLE_DB_URL']\n"
    )
    found = {e.name: (e.default, e.required) for e in collect(tmp_path).config.env_vars}
    assert found == {"BAUBLE_DB_URL": (None, True)}


def test_a_database_url_keeps_the_scheme_the_repos_compose_file_gives_it(tmp_path: Path) -> None:
    # Measured: tortoise-orm refused postgresql:// ("Unknown DB scheme"); the repo's compose
    # file said postgres://. The compose value holds a credential: only its scheme is kept.
    (tmp_path / "db.py").write_text(
        "import os\nTORTOISE_ORM = {'connections': {'default': os.environ.get('DATABASE_URL')}}\n"
    )
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  web:\n    build: .\n    environment:\n"
        "      - DATABASE_URL=postgres://postgres:hunter2@web-db:5432/web_dev\n"
        "  web-db:\n    image: postgres:15\n"
    )
    from kubestep.answers import answers_from_inventory

    inventory = collect(tmp_path).to_dict()
    recorded = [e for e in inventory["environment"] if e["name"] == "DATABASE_URL"]
    assert recorded and recorded[0].get("scheme") == "postgres"
    assert "hunter2" not in str(inventory)
    legacy = answers_from_inventory(inventory, 3, {})["legacy"]
    url = next(e["value"] for e in legacy["local_env"] if e["name"] == "DATABASE_URL")
    assert url == "postgres://app:local-only-password@postgres:5432/app"
