"""Time the inventory and each migration step on examples/legacy-app."""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubestep import inventory
from kubestep.migrate import migrate
from tests.legacy_repo import GIT_IDENTITY, legacy_copy


def main() -> None:
    os.environ.update(GIT_IDENTITY)
    with tempfile.TemporaryDirectory() as scratch:
        repo = legacy_copy(Path(scratch) / "legacy-app")
        started = time.monotonic()
        found = inventory.collect(repo).to_dict()
        print(
            f"inventory: {(time.monotonic() - started) * 1000:.0f} ms, "
            f"{len(found.get('checks', []))} checks, "
            f"{len(found.get('config', {}).get('keys', []))} config keys, "
            f"{len(found.get('warnings', []))} warnings"
        )
        for step in ("1", "2", "3"):
            started = time.monotonic()
            migrate(repo, step, out=lambda line: None)
            print(f"step {step}: {time.monotonic() - started:.2f} s")


if __name__ == "__main__":
    main()
