"""What an inventory holds: plain dataclasses, each fact with the `path:line` it came from.

Records leave out empty fields when turned into data so the YAML stays short and readable;
sections (the inventory itself, its config and entrypoint) keep every key so callers can rely
on them being there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kubestep.secrets import withheld


@dataclass
class Fact:
    """One value read from the repo; env_var names a variable that overrides it at run time."""

    value: Any
    source: str
    kind: str | None = None
    env_var: str | None = None
    note: str | None = None


@dataclass
class ServiceInfo:
    name: str
    source: str
    description: str | None = None


@dataclass
class Entrypoint:
    """How the legacy service is started: the app object, the server and its options."""

    keep_empty: ClassVar[bool] = True
    app: Fact | None = None
    server: Fact | None = None
    command: Fact | None = None
    port: Fact | None = None
    workers: Fact | None = None
    settings: Fact | None = None


@dataclass
class RequirementsInclude:
    """`-r other.txt` (or a bare file path) in a requirements file: pip reads both."""

    file: str
    includes: str
    source: str


@dataclass
class Dependency:
    name: str
    spec: str
    source: str
    scope: str = "runtime"
    # "poetry" for [tool.poetry] dependencies: installed by name, the project is not a package.
    manager: str | None = None


@dataclass
class ConfigFile:
    """A config file the service reads at run time, or an example of one kept in the repo."""

    path: str | None
    source: str
    env_var: str | None = None
    example: str | None = None


@dataclass
class ConfigKey:
    """A key of the config file; a secret-looking one keeps why (`secret`), never its values."""

    section: str
    key: str
    env_name: str
    source: str
    default: Any = None
    type: str | None = None
    example_value: Any = None
    required: bool | None = None
    secret: str | None = None

    def __post_init__(self) -> None:
        self.secret = self.secret or withheld(self.key, self.default, self.example_value) or None
        if self.secret:
            self.default = self.example_value = None


@dataclass
class EnvVar:
    """An environment variable the code reads (with its default) or a deployment sets; a
    secret-looking one keeps why (`secret`), never its value."""

    name: str
    source: str
    value: str | None = None
    default: Any = None
    # True when the code reads it without a default (os.environ["X"], env("X")): it must be set.
    required: bool | None = None
    secret: str | None = None
    # The setting the value goes to (SQLALCHEMY_DATABASE_URI, DATABASES.default.HOST).
    feeds: str | None = None
    # A class selector (app.config.from_object(os.environ["APP_SETTINGS"])): the classes its
    # value may name, as dotted paths.
    choices: list[str] = field(default_factory=list)
    # The value the repo's own sample env file gives it for development (.env.example).
    example: Evidence | None = None
    # A withheld URL's scheme (`postgres`): the driver it names, which holds no credential.
    scheme: str | None = None

    def __post_init__(self) -> None:
        self.secret = self.secret or withheld(self.name, self.value, self.default) or None
        if self.secret:
            url = re.match(r"^([a-z][a-z0-9+.-]*)://", str(self.value or self.default or ""))
            self.scheme = self.scheme or (url.group(1) if url else None)
            self.value = self.default = None


@dataclass
class Config:
    keep_empty: ClassVar[bool] = True
    files: list[ConfigFile] = field(default_factory=list)
    keys: list[ConfigKey] = field(default_factory=list)
    env_vars: list[EnvVar] = field(default_factory=list)


@dataclass
class Evidence:
    value: str
    source: str


@dataclass
class BackingService:
    kind: str
    source: str
    config_section: str | None = None
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class WritablePath:
    """A path the app writes at run time: a directory (`logs/`) or a SQLite database file.

    `path` is repo-relative when the code builds it from `__file__`, `./`-relative to the
    process's working directory when it is a relative literal, or absolute.
    """

    path: str
    kind: str  # "dir" or "sqlite"
    source: str
    why: str = ""
    # Repo directories this path may be (a `./logs` under whichever working directory) that
    # hold files of the repo: a volume there would hide them.
    occupied: list[str] = field(default_factory=list)


@dataclass
class Route:
    """A URL path the app serves; pattern is a regex over the whole path (route_patterns)."""

    path: str
    pattern: str
    source: str
    # "django" for urlpatterns; None for routes declared in code (decorators, add_route).
    kind: str | None = None
    # Why the path may be served under another prefix as well (a blueprint kubestep cannot
    # see registered).
    note: str | None = None
    # The HTTP methods it answers, as declared (`methods=["POST"]`, `@app.post`); None when the
    # code does not say (Django views, Falcon resources, class-based views): any may answer.
    methods: list[str] | None = None


@dataclass
class SystemPackage:
    name: str
    source: str
    manager: str | None = None


@dataclass
class User:
    name: str
    source: str
    uid: int | None = None
    home: str | None = None
    shell: str | None = None
    manager: str | None = None


@dataclass
class ManagedFile:
    path: str
    source: str
    kind: str = "file"
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    template: str | None = None
    template_file: str | None = None
    manager: str | None = None


@dataclass
class ServiceUnit:
    name: str
    manager: str
    source: str
    user: str | None = None
    command: str | None = None
    working_directory: str | None = None
    ensure: str | None = None


@dataclass
class CronJob:
    name: str
    schedule: str
    command: str
    source: str
    user: str | None = None
    manager: str | None = None


@dataclass
class Check:
    """A monitoring check, classified so it can become a probe or an alert."""

    name: str
    kind: str
    source: str
    port: int | None = None
    path: str | None = None
    expect_status: int | None = None
    process: str | None = None
    min: int | None = None
    max: int | None = None
    warning: str | None = None
    critical: str | None = None
    script: str | None = None
    args: list[str] = field(default_factory=list)
    command: str | None = None


@dataclass
class MakeTarget:
    name: str
    source: str
    prerequisites: list[str] = field(default_factory=list)
    recipe: list[str] = field(default_factory=list)


@dataclass
class Script:
    path: str
    role: str
    source: str


@dataclass
class Process:
    """A non-web process type (Procfile worker, release, ...)."""

    name: str
    command: str
    source: str


@dataclass
class StartCandidate:
    """A command line in the repo that starts a process of the service, and what it starts.

    Every place that starts something reports one (Procfile, systemd, upstart, supervisor,
    an existing Dockerfile or compose file, config management, scripts, make, README); the
    start decision (kubestep/decide.py) ranks them, so none is dropped unseen.
    """

    command: str
    source: str
    origin: str
    role: str
    name: str | None = None
    server: str | None = None
    app: str | None = None
    kind: str | None = None
    port: int | None = None
    port_env: str | None = None
    port_note: str | None = None
    workers: int | None = None
    workers_env: str | None = None
    script: str | None = None
    started_by: str | None = None
    workdir: str | None = None
    loopback: bool = False
    note: str | None = None
    # Release commands (migrations) a script run as itself runs before its server.
    runs_first: list[str] = field(default_factory=list)


@dataclass
class ContainerFile:
    """A Dockerfile or compose file the repo already has, and what it says."""

    path: str
    kind: str
    source: str
    base_image: str | None = None
    exposes: list[int] = field(default_factory=list)
    user: str | None = None
    services: list[str] = field(default_factory=list)
    # A compose file's services that run a ready-made image (`db: image: postgres:13`).
    images: list[Evidence] = field(default_factory=list)


@dataclass
class SetupCommand:
    """A one-off command run at deploy time (Puppet exec, Chef execute)."""

    command: str
    source: str
    user: str | None = None
    cwd: str | None = None
    manager: str | None = None


@dataclass
class CiFile:
    """A CI pipeline the repo already has: kubestep's goes beside it, and learns from it."""

    path: str
    system: str
    source: str
    branches: list[str] = field(default_factory=list)
    test_commands: list[Evidence] = field(default_factory=list)
    secrets: list[Evidence] = field(default_factory=list)


@dataclass
class Readme:
    path: str
    title: str | None
    source: str
    description: str | None = None


@dataclass
class ReadWarning:
    source: str
    message: str


@dataclass
class Inventory:
    """Everything kubestep learned about a legacy repo; the first step of every migration."""

    keep_empty: ClassVar[bool] = True
    service: ServiceInfo | None = None
    language: Fact | None = None
    framework: Fact | None = None
    python_version: Fact | None = None
    entrypoint: Entrypoint = field(default_factory=Entrypoint)
    dependencies: list[Dependency] = field(default_factory=list)
    requirements_files: list[str] = field(default_factory=list)
    requirements_includes: list[RequirementsInclude] = field(default_factory=list)
    # When the dependency files were last committed (kubestep/inventory/dependency_dates.py).
    dependencies_date: Fact | None = None
    config: Config = field(default_factory=Config)
    backing_services: list[BackingService] = field(default_factory=list)
    system_packages: list[SystemPackage] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    managed_files: list[ManagedFile] = field(default_factory=list)
    services: list[ServiceUnit] = field(default_factory=list)
    cron_jobs: list[CronJob] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    make_targets: list[MakeTarget] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)
    setup_commands: list[SetupCommand] = field(default_factory=list)
    environment: list[EnvVar] = field(default_factory=list)
    start_candidates: list[StartCandidate] = field(default_factory=list)
    container_files: list[ContainerFile] = field(default_factory=list)
    # Python files that only Python 2 parses (print statements, `except E, e`), with where.
    python2_files: list[Evidence] = field(default_factory=list)
    # Modules from outside the repo and the standard library that its code imports, each once
    # with the first place: what the code really uses, not what a freeze file drags along.
    imports: list[Evidence] = field(default_factory=list)
    # Dotted names the code imports without an ImportError fallback
    # (`from flask_jwt_extended import jwt_optional` -> flask_jwt_extended.jwt_optional): a
    # release that removed one caps its package.
    imported_names: list[Evidence] = field(default_factory=list)
    # String literals in the code that are a backing service's URL (`redis://localhost:6379`).
    service_urls: list[Evidence] = field(default_factory=list)
    writable_paths: list[WritablePath] = field(default_factory=list)
    # The manage.py of each Django project whose settings use a manifest static storage
    # (source: the setting): its pages need collectstatic to have run.
    collected_static: list[Evidence] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    ci_files: list[CiFile] = field(default_factory=list)
    readme: Readme | None = None
    warnings: list[ReadWarning] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML-safe data in field order."""
        from kubestep.inventory.plain import to_plain

        return to_plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inventory:
        """Rebuild from to_dict() output (or a hand-edited inventory.yml)."""
        from kubestep.inventory.plain import from_plain

        return from_plain(cls, data, "inventory")

    def warn(self, source: str, message: str) -> None:
        self.warnings.append(ReadWarning(source=source, message=message))

    def merge(self, other: Inventory) -> None:
        """Add other's facts: lists grow, a single fact already known is kept (first wins)."""
        for name in _SINGLE_FACTS:
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        for name in _ENTRYPOINT_FACTS:
            if getattr(self.entrypoint, name) is None:
                setattr(self.entrypoint, name, getattr(other.entrypoint, name))
        for name in ("files", "keys", "env_vars"):
            getattr(self.config, name).extend(getattr(other.config, name))
        for name in _LIST_FACTS:
            mine = getattr(self, name)
            mine.extend(item for item in getattr(other, name) if item not in mine)


_SINGLE_FACTS = (
    "service",
    "language",
    "framework",
    "python_version",
    "dependencies_date",
    "readme",
)
_ENTRYPOINT_FACTS = ("app", "server", "command", "port", "workers", "settings")
_LIST_FACTS = (
    "dependencies",
    "requirements_files",
    "requirements_includes",
    "backing_services",
    "system_packages",
    "users",
    "managed_files",
    "services",
    "cron_jobs",
    "checks",
    "make_targets",
    "scripts",
    "processes",
    "setup_commands",
    "environment",
    "start_candidates",
    "container_files",
    "python2_files",
    "imports",
    "imported_names",
    "service_urls",
    "writable_paths",
    "collected_static",
    "routes",
    "ci_files",
    "warnings",
)
