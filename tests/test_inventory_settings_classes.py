"""Settings classes and framework config shapes: what each reads from the environment."""

from pathlib import Path
from typing import Any

from kubestep.inventory import collect
from tests.legacy_repo import write_tree


def env_vars(root: Path) -> dict[str, tuple[Any, Any]]:
    return {e.name: (e.default, e.required) for e in collect(root).config.env_vars}


def test_pydantic_1_fields_are_inherited_across_modules_with_their_defaults(
    tmp_path: Path,
) -> None:
    write_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/settings/__init__.py": "",
            "shop/settings/base.py": (
                "from enum import Enum\n"
                "from pydantic import BaseSettings\n"
                "class Stage(str, Enum):\n"
                "    live = 'live'\n"
                "    local = 'local'\n"
                "class CommonSettings(BaseSettings):\n"
                "    stage: Stage = Stage.live\n"
                "    class Config:\n"
                "        env_file = '.env'\n"
            ),
            "shop/settings/full.py": (
                "import logging\n"
                "from typing import ClassVar, List, Optional\n"
                "from pydantic import BaseModel, Field, PostgresDsn, SecretStr\n"
                "from .base import CommonSettings\n"
                "class Smtp(BaseModel):\n"
                "    host: str = 'mail'\n"
                "class FullSettings(CommonSettings):\n"
                "    store_dsn: PostgresDsn\n"
                "    signing_secret: SecretStr\n"
                "    page_size: int = 20\n"
                "    hosts: List[str] = ['*']\n"
                "    level: int = logging.INFO\n"
                "    sentry: Optional[str]\n"
                "    feed: str = Field(..., env='FEED_ADDRESS')\n"
                "    smtp: Smtp = Smtp()\n"
                "    registry: ClassVar[dict] = {}\n"
                "    _cache: dict = {}\n"
            ),
            "shop/settings/trial.py": (
                "from shop.settings.full import FullSettings\n"
                "class TrialSettings(FullSettings):\n"
                "    signing_secret: str = 'trial'\n"
                "    page_size: int = 5\n"
            ),
        },
    )
    assert env_vars(tmp_path) == {
        "STAGE": ("live", None),  # an Enum member's value
        "STORE_DSN": (None, True),
        "SIGNING_SECRET": (None, True),  # FullSettings fails without it, whatever Trial says
        "PAGE_SIZE": (20, None),
        "HOSTS": (["*"], None),
        "LEVEL": (None, None),  # computed: the code copes without it
        "SENTRY": (None, None),  # pydantic 1: Optional defaults to None
        "FEED_ADDRESS": (None, True),
    }


def test_pydantic_2_prefix_aliases_and_required_optionals(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "svc/config.py": (
                "from typing import Optional\n"
                "from pydantic import AliasChoices, Field\n"
                "from pydantic_settings import BaseSettings, SettingsConfigDict\n"
                "class Settings(BaseSettings):\n"
                "    model_config = SettingsConfigDict(env_prefix='svc_', env_file='.env')\n"
                "    broker: str = 'redis://localhost:6379/0'\n"
                "    store: str = Field(validation_alias='STORE_DSN')\n"
                "    mirror: str = Field('x', validation_alias=AliasChoices('MIRROR', 'M2'))\n"
                "    token: Optional[str]\n"
                "    tags: list = Field(default_factory=list)\n"
                "    retries: int = Field(default=3)\n"
                "class Strict(BaseSettings):\n"
                "    model_config = {'env_prefix': 'S_', 'case_sensitive': True}\n"
                "    Mode: str = 'on'\n"
            ),
        },
    )
    assert env_vars(tmp_path) == {
        "SVC_BROKER": ("redis://localhost:6379/0", None),
        "STORE_DSN": (None, True),  # an alias takes no prefix
        "MIRROR": ("x", None),
        "SVC_TOKEN": (None, True),  # pydantic 2: Optional is still required
        "SVC_TAGS": (None, None),
        "SVC_RETRIES": (3, None),
        "S_Mode": ("on", None),
    }


def test_flask_config_classes_or_defaults_casts_and_the_class_selector(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "settings.py": (
                "import os\n"
                "here = os.path.dirname(__file__)\n"
                "class Base:\n"
                "    SESSION_SECRET = os.environ.get('SESSION_SECRET') or 'not-set'\n"
                "    GREETING = os.environ.get('GREETING') or 'hi'\n"
                "    SQLALCHEMY_DATABASE_URI = os.environ.get('STORE', '').replace(\n"
                "        'postgres://', 'postgresql://') or 'sqlite:///' + here + '/app.db'\n"
                "    SMTP_PORT = int(os.environ.get('SMTP_PORT') or 25)\n"
                "    VERBOSE = os.environ.get('VERBOSE', default=0)\n"
                "    STRICT = os.environ.get('STRICT', 'False').lower() == 'true'\n"
                "class LocalConfig(Base):\n"
                "    DEBUG = True\n"
                "class LiveConfig(Base):\n"
                "    DEBUG = False\n"
            ),
            "web.py": (
                "import os\n"
                "from flask import Flask\n"
                "app = Flask(__name__)\n"
                "app.config.from_object(os.environ['APP_CLASS'])\n"
            ),
            "tests/test_web.py": "import os\nURL = os.environ['ONLY_IN_TESTS']\n",
        },
    )
    found = {e.name: e for e in collect(tmp_path).config.env_vars}
    assert {name: (e.default, e.required) for name, e in found.items()} == {
        "SESSION_SECRET": (None, None),  # a secret: its default is never recorded
        "GREETING": ("hi", None),
        "STORE": (None, None),  # the code computes an SQLite default
        "SMTP_PORT": (25, None),
        "VERBOSE": (0, None),
        "STRICT": ("False", None),
        "APP_CLASS": (None, True),
    }
    assert found["STORE"].feeds == "SQLALCHEMY_DATABASE_URI"
    assert found["APP_CLASS"].choices == [
        "settings.Base",
        "settings.LocalConfig",
        "settings.LiveConfig",
    ]


def test_django_settings_read_through_environ_dj_database_url_and_decouple(
    tmp_path: Path,
) -> None:
    write_tree(
        tmp_path,
        {
            "site/settings.py": (
                "import os\n"
                "import environ\n"
                "import dj_database_url\n"
                "from decouple import config\n"
                "env = environ.Env(VERBOSE=(bool, False))\n"
                "VERBOSE = env('VERBOSE')\n"
                "HOSTS = os.environ.get('SITE_HOSTS').split(' ')\n"
                "DATABASES = {'default': env.db()}\n"
                "CACHES = {'default': env.cache('STORE_CACHE', default='locmemcache://')}\n"
                "QUEUE = env.str('QUEUE', 'redis://localhost:6379/1')\n"
                "CSRF = config('CSRF_ON', cast=bool, default=True)\n"
                "WORKERS = env.int('WORKERS', default=2)\n"
            ),
            "other/settings.py": (
                "import os\n"
                "import dj_database_url\n"
                "DATABASES = {\n"
                "    'default': dj_database_url.config(default='sqlite:///db.sqlite3'),\n"
                "    'reports': dj_database_url.parse(os.environ['REPORTS_DB']),\n"
                "    'legacy': {\n"
                "        'ENGINE': os.environ.get('SQL_BACKEND', 'django.db.backends.sqlite3'),\n"
                "        'HOST': os.environ.get('LEGACY_AT'),\n"
                "    },\n"
                "}\n"
            ),
        },
    )
    found = {e.name: e for e in collect(tmp_path).config.env_vars}
    assert {name: (e.default, e.required) for name, e in found.items()} == {
        "VERBOSE": (False, None),  # the default Env(...) declares
        "SITE_HOSTS": (None, True),
        "DATABASE_URL": ("sqlite:///db.sqlite3", None),  # env.db() required it: a default wins
        "STORE_CACHE": ("locmemcache://", None),
        "QUEUE": ("redis://localhost:6379/1", None),
        "CSRF_ON": (True, None),
        "WORKERS": (2, None),
        "REPORTS_DB": (None, True),
        "SQL_BACKEND": ("django.db.backends.sqlite3", None),
        "LEGACY_AT": (None, None),
    }
    assert found["LEGACY_AT"].feeds == "DATABASES.legacy.HOST"
    assert found["SQL_BACKEND"].feeds == "DATABASES.legacy.ENGINE"


def test_a_read_that_picks_a_key_of_a_dict_is_no_class_selector(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "config.py": "class LocalConfig:\n    DEBUG = True\nconfigs = {'local': LocalConfig}\n",
            "web.py": (
                "import os\n"
                "import flask\n"
                "from config import configs\n"
                "app = flask.Flask(__name__)\n"
                "app.config.from_object(configs[os.environ['CONFIG_NAME']])\n"
                "name = os.getenv('CONFIG_CLASS') or 'config.LocalConfig'\n"
                "app.config.from_object(name)\n"
            ),
        },
    )
    found = {e.name: e.choices for e in collect(tmp_path).config.env_vars}
    assert found == {"CONFIG_NAME": [], "CONFIG_CLASS": ["config.LocalConfig"]}
