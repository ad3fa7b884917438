"""One error hierarchy for the runtime: each error is a user-fixable problem shown as one line."""


class RuntimeSetupError(Exception):
    """The service cannot start as configured; the message says what to change."""


class ConfigError(RuntimeSetupError):
    """One or more environment variables are missing or invalid; all are listed at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class RouteClashError(RuntimeSetupError):
    """The wrapped app already serves a path the runtime wants for a probe endpoint."""
