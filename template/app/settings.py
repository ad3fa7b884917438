"""The service's configuration, read from the environment once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubestep_runtime.config import EnvReader


@dataclass(frozen=True)
class Settings:
    environment: str
    greeting: str = "Hello"
    port: int = 8000


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every variable, then raise one ConfigError listing all that are wrong."""
    env = EnvReader(environ)
    settings = Settings(
        environment=env.require("ENVIRONMENT"),
        greeting=env.text("GREETING", Settings.greeting),
        port=env.integer("PORT", Settings.port, minimum=1),
    )
    env.check()
    return settings
