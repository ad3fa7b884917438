"""Settings from one INI file, at $LEGACY_APP_CONFIG or /etc/legacy-app/legacy-app.ini.

Every key has a fallback, so a box without the file still starts (the staging boxes never
got one from Puppet, and nobody noticed for two years).
"""

import configparser
import os

DEFAULT_PATH = "/etc/legacy-app/legacy-app.ini"


class Config:
    def __init__(self, parser):
        self.server_port = parser.getint("server", "port", fallback=8080)
        self.server_workers = parser.getint("server", "workers", fallback=2)
        self.db_host = parser.get("database", "host", fallback="localhost")
        self.db_port = parser.getint("database", "port", fallback=5432)
        self.db_name = parser.get("database", "name", fallback="orders")
        self.db_user = parser.get("database", "user", fallback="legacy")
        self.db_password = parser.get("database", "password", fallback="")
        self.cache_host = parser.get("cache", "host", fallback="localhost")
        self.cache_port = parser.getint("cache", "port", fallback=6379)
        self.purge_max_age_days = parser.getint("purge", "max_age_days", fallback=30)


def config_path():
    return os.environ.get("LEGACY_APP_CONFIG", DEFAULT_PATH)


def load_config(path=None):
    parser = configparser.ConfigParser()
    # read() skips a missing file silently: the fallbacks above apply.
    parser.read(path or config_path())
    return Config(parser)
