"""Long commands shown as one line each, with their time; their output goes to a log file.

A fresh machine spends minutes installing an engine and building images. A wall of apt and
build output hides what is happening; one line per phase says it, and the log keeps the
detail for when a phase fails.
"""

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from kubestep.errors import KubestepError

TAIL_LINES = 15


class PhaseFailed(KubestepError):
    """A phase's command failed; the message names the log with its whole output."""


def log_dir() -> Path:
    """Where phase logs go: beside kubestep's image cache (KUBESTEP_CACHE, as the scripts)."""
    cache = os.environ.get("KUBESTEP_CACHE") or str(Path.home() / ".cache" / "kubestep")
    return Path(cache) / "logs"


def run_phase(
    title: str,
    command: Sequence[str],
    log: Path,
    env: Mapping[str, str] | None = None,
) -> float:
    """Run command with its output in log, printing `title ... 21 s`; the seconds it took.

    On failure the line ends in `failed`, the log's last lines go to stderr and PhaseFailed
    names the log.
    """
    print(f"{title} ...", end=" ", flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("w") as out:
        out.write(f"+ {shlex.join(command)}\n")
        out.flush()
        result = subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            check=False,
        )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        print(f"failed after {duration(seconds)}", flush=True)
        tail = log.read_text(errors="replace").splitlines()[-TAIL_LINES:]
        print("\n".join(f"  {line}" for line in tail), file=sys.stderr, flush=True)
        raise PhaseFailed(f"{title} failed (exit {result.returncode}); its output is in {log}")
    print(duration(seconds), flush=True)
    return seconds


def duration(seconds: float) -> str:
    """Seconds as a phase line shows them: tenths only where they matter."""
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
