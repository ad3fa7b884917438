"""Debian's Prometheus and Alertmanager tools for step 6's tests (installed by
kubestep/scripts/install-monitoring-tools.sh, which .ci/run calls)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS = ("promtool", "amtool", "prometheus")


def require_tools() -> None:
    """Skip without the tools, or fail when KUBESTEP_REQUIRE_DOCKER=1 (CI installs them)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    script = "kubestep/scripts/install-monitoring-tools.sh"
    message = f"{', '.join(missing)} not installed (sudo bash {script})"
    if os.environ.get("KUBESTEP_REQUIRE_DOCKER") == "1":
        pytest.fail(f"KUBESTEP_REQUIRE_DOCKER=1 but {message}")
    pytest.skip(message)


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
