"""config/local.env for a migrated service: what the code reads, wired to compose services."""

from pathlib import Path

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
