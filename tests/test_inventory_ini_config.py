"""INI files and configparser reads in code, joined into config keys."""

from pathlib import Path

from kubestep.inventory import collect
from kubestep.inventory.naming import env_name
from tests.legacy_repo import write_tree

FIXTURES = Path(__file__).parent / "fixtures" / "inventory"


def test_keys_from_code_with_types_defaults_and_examples() -> None:
    inventory = collect(FIXTURES / "ops")
    keys = {(k.section, k.key): k for k in inventory.config.keys}
    port = keys[("mysql", "port")]
    assert (port.type, port.default, port.example_value) == ("int", 3306, 3306)
    assert port.env_name == "MYSQL_PORT" and port.source == "billing/settings.py:18"
    assert keys[("app", "debug")].example_value is True
    assert keys[("app", "ratio")].default == 0.5
    assert keys[("mysql", "password")].required is True
    assert keys[("rabbitmq", "url")].default == "amqp://localhost/"  # via a section proxy
    assert keys[("app", "extra_key")].source == "config/billing.ini.example:13"
    assert ("section", "key") not in keys  # dict.get is not a config read


def test_config_file_path_env_var_and_example() -> None:
    inventory = collect(FIXTURES / "ops")
    (config_file,) = inventory.config.files
    assert config_file.path == "/etc/billing/billing.ini"
    assert config_file.env_var == "BILLING_CONFIG"
    assert config_file.example == "config/billing.ini.example"


def test_computed_default_is_a_warning() -> None:
    inventory = collect(FIXTURES / "ops")
    assert any(w.source == "billing/settings.py:23" for w in inventory.warnings)


def test_malformed_ini_lines_are_warnings() -> None:
    inventory = collect(FIXTURES / "broken")
    sources = {w.source for w in inventory.warnings}
    assert {"config/app.ini:1", "config/app.ini:4", "config/app.ini:5"} <= sources
    (key,) = inventory.config.keys
    assert key.example_value == "app"  # the first of the duplicates, as configparser would


def test_env_name_rule() -> None:
    assert env_name("database", "host") == "DATABASE_HOST"
    assert env_name("my-cache.v2", "max age") == "MY_CACHE_V2_MAX_AGE"
    assert env_name("2fa", "key") == "_2FA_KEY"


def test_a_key_read_only_behind_a_feature_flag_is_not_required_at_start(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "payments.py": (
                "import configparser\n"
                "from shop import settings\n"
                "config = configparser.ConfigParser()\n"
                "config.read('config.ini')\n"
                "NAME = config.get('DEFAULT', 'name')\n"
                "if settings.ENABLE_PAYMENTS:\n"
                "    MODE = config.get('DEFAULT', 'environment').upper()\n"
            ),
        },
    )
    keys = {(k.section, k.key): k.required for k in collect(root).config.keys}
    assert keys == {("DEFAULT", "name"): True, ("DEFAULT", "environment"): None}
