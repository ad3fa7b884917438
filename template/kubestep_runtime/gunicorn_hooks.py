"""Gunicorn server hooks: multiprocess metrics files and draining on SIGTERM.

gunicorn.conf.py calls `use_multiprocess_metrics()` before anything imports prometheus_client
(which picks its storage once, at import) and re-exports the hooks by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from . import lifecycle
from .config import fail_fast

T = TypeVar("T")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A worker that exits with this code makes gunicorn's master stop instead of starting
# another one: a setup error would otherwise restart workers forever, and the pod would
# look alive.
WORKER_BOOT_ERROR = 3
_created_dir: str | None = None


def shm_dir() -> str | None:
    """/dev/shm when present: in-memory and writable under a read-only root filesystem."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def use_multiprocess_metrics() -> str:
    """Ensure PROMETHEUS_MULTIPROC_DIR names a directory, creating a private one if unset."""
    global _created_dir
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        path = _created_dir = tempfile.mkdtemp(prefix="kubestep-metrics-", dir=shm_dir())
        os.environ[MULTIPROC_ENV] = path
    Path(path).mkdir(parents=True, exist_ok=True)
    return path


def fail_fast_in_worker(load: Callable[[], T]) -> T:
    """`fail_fast` for what runs in a worker (wrapping the app): one line, then gunicorn stops."""
    return fail_fast(load, exit_code=WORKER_BOOT_ERROR)


def on_starting(server: Any) -> None:
    """Drop samples of a previous run: an emptyDir outlives a container restart."""
    path = os.environ.get(MULTIPROC_ENV)
    if path and path != _created_dir:
        for stale in Path(path).glob("*.db"):
            stale.unlink(missing_ok=True)


def post_fork(server: Any, worker: Any) -> None:
    """A new worker dies at once on SIGTERM until gunicorn installs its own handlers.

    Forked from the master, it still has the master's handlers, which only queue the signal
    for the master's loop: a stop that lands while it boots would be lost, and the pod would
    wait out its whole grace period.
    """
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(number, signal.SIG_DFL)


def post_worker_init(worker: Any) -> None:
    """Chain a draining flag before gunicorn's own SIGTERM handler in each worker."""
    lifecycle.reset()
    lifecycle.install_sigterm_handler()


def child_exit(server: Any, worker: Any) -> None:
    """Stop counting a dead worker's live gauges (its counters stay, as they must)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _created_dir:
        shutil.rmtree(_created_dir, ignore_errors=True)
