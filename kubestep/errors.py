"""One error hierarchy: every user error is a KubestepError, shown as one line and exit 1."""


class KubestepError(Exception):
    """A problem the user can fix; its message is shown as is, without a traceback."""


class InvalidValue(KubestepError):
    """A value (answer, option, manifest field) is not of the kind it must be."""


class TargetError(KubestepError):
    """The target repository cannot be worked on as it is (missing, dirty, not git)."""


class StepError(KubestepError):
    """A migration step cannot run, or failed and was rolled back."""


class DockerUnavailable(KubestepError):
    """No Docker engine answers; the message says how to get one."""
