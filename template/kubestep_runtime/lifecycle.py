"""Draining: after SIGTERM readiness fails at once, so Kubernetes stops routing new traffic
while requests already in flight are allowed to finish."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

_draining = threading.Event()
log = logging.getLogger("kubestep.lifecycle")


def start_draining() -> None:
    """Mark this process as shutting down; `/ready` answers 503 from now on."""
    if not _draining.is_set():
        _draining.set()
        log.info("draining: readiness now fails, finishing requests in flight")


def is_draining() -> bool:
    return _draining.is_set()


def reset() -> None:
    """Forget a previous SIGTERM (tests, and a forked worker that must start clean)."""
    _draining.clear()


def install_sigterm_handler() -> None:
    """Start draining on SIGTERM, then run whatever handler was there before.

    The server's own handler (gunicorn's worker, uvicorn) still decides when to stop, so
    its graceful timeout keeps applying; only the main thread may install handlers.
    """
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        start_draining()
        if callable(previous):
            previous(signum, frame)
        elif previous in (signal.SIG_DFL, None):
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    # signal.signal() turns on EINTR for the signal; keep system calls in requests intact.
    signal.siginterrupt(signal.SIGTERM, False)
