"""The runtime's own settings: probe paths, readiness timing and the build identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .config import EnvReader

UNKNOWN = "unknown"


@dataclass(frozen=True)
class RuntimeSettings:
    """Everything the wrapper reads from the environment, read once at wrap time."""

    health_path: str = "/health"
    ready_path: str = "/ready"
    metrics_path: str = "/metrics"
    info_path: str = "/info"
    ready_cache_seconds: float = 2.0
    ready_check_timeout: float = 1.0
    # Which readiness checks decide /ready: "all", "none" or check names (see docs/runtime.rst).
    ready_requires: str = "all"
    service_name: str = UNKNOWN
    service_version: str = UNKNOWN
    git_revision: str = UNKNOWN
    build_time: str = UNKNOWN

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuntimeSettings:
        """Read all variables; a ConfigError lists every invalid one."""
        env = EnvReader(environ)
        settings = cls(
            health_path=env.url_path("HEALTH_PATH", cls.health_path),
            ready_path=env.url_path("READY_PATH", cls.ready_path),
            metrics_path=env.url_path("METRICS_PATH", cls.metrics_path),
            info_path=env.url_path("INFO_PATH", cls.info_path),
            ready_cache_seconds=env.number("READY_CACHE_SECONDS", cls.ready_cache_seconds),
            ready_check_timeout=env.number("READY_CHECK_TIMEOUT", cls.ready_check_timeout),
            ready_requires=env.text("READY_REQUIRES", cls.ready_requires),
            service_name=env.text("SERVICE_NAME", UNKNOWN),
            service_version=env.text("SERVICE_VERSION", UNKNOWN),
            git_revision=env.text("GIT_REVISION", UNKNOWN),
            build_time=env.text("BUILD_TIME", UNKNOWN),
        )
        paths = settings.paths()
        if len(set(paths)) != len(paths):
            env.problems.append(f"probe paths must differ, got {', '.join(paths)}")
        env.check()
        return settings

    def paths(self) -> tuple[str, str, str, str]:
        return (self.health_path, self.ready_path, self.metrics_path, self.info_path)

    def info(self) -> dict[str, str]:
        """The public build identity: only these four fields, never the environment."""
        return {
            "name": self.service_name,
            "version": self.service_version,
            "git_revision": self.git_revision,
            "build_time": self.build_time,
        }
