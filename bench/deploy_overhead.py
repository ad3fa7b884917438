"""What `make kube_apply`'s driver (kube/deploy) costs and how fast it fails a bad release,
measured offline (there is no cluster here).

    .venv/bin/python bench/deploy_overhead.py [--rounds 20]

1. Time to a verdict on a failing release, on a fake clock, against tests/fake_cluster.py
   replaying the recorded pods of a real crash loop and image pull: their first fatal state
   shows 5 s (crash loop) and 3 s (image pull) after the apply, as in
   tests/fixtures/kube/events-*.json. The old wrapper waited for the progress deadline (90 s).
2. The driver's own overhead per successful upgrade: its CPU work with a zero-latency
   in-process cluster (median of --rounds), the start of `python3 kube/deploy`, the offline
   validation, and the number of kubectl calls it makes beyond a bare `kubectl apply` +
   `kubectl rollout status`, each priced at one measured kubectl start (`kubectl version
   --client`), a lower bound of a call to a real API server.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fake_cluster import FakeCluster
from tests.render import VENV_BIN, generate

DRIVER = Path(__file__).resolve().parents[1] / "template" / "kube" / "deploy"
IMAGE = "registry.example.com/platform/shop"
ENV = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


class FakeClock:
    def __init__(self) -> None:
        self.moment = 1_741_079_560.0

    def now(self) -> float:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += seconds


def driver() -> Any:
    sys.path.insert(0, str(DRIVER))
    spec = importlib.util.spec_from_file_location("kube_deploy_main", DRIVER / "__main__.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rendered(root: Path) -> tuple[Path, str]:
    project = generate(root / "shop", service_name="shop")
    subprocess.run(
        ["make", "-s", "kube_apply", "ENV=staging", "TAG=1.0.0", "DRY_RUN=1", "KUBE_VALIDATE="],
        cwd=project,
        env=ENV,
        check=True,
        capture_output=True,
    )
    return project, (project / "build" / "kube" / "staging.deploy.yaml").read_text()


class Run:
    def __init__(self, project: Path, template: str, main: Any) -> None:
        self.project, self.template, self.main = project, template, main
        self.clock = FakeClock()
        self.state: dict[str, Any] = {}
        self.cluster = FakeCluster(self.state, now=self.clock.now)
        self.answer = sys.modules["deploy_kubectl"].Answer

    def deploy(self, tag: str, *options: str) -> int:
        manifest = self.project / "build" / "kube" / f"bench.{tag}.yaml"
        manifest.write_text(
            self.template.replace(":1.0.0", f":{tag}").replace(
                "2025-01-01T00:00:00Z", f"at-{self.clock.now()}"
            )
        )
        self.state["log"], self.state["clocked"] = [], []
        argv = [
            "apply",
            *("--env", "staging", "--namespace", "shop-staging", "--deployment", "shop"),
            *("--manifest", str(manifest), *options),
        ]
        with open(os.devnull, "w") as quiet:
            stdout, stderr, sys.stdout, sys.stderr = sys.stdout, sys.stderr, quiet, quiet
            try:
                return int(
                    self.main.main(
                        argv,
                        run=lambda a, s=None: self.answer(*self.cluster(a, s)),
                        now=self.clock.now,
                        sleep=self.clock.sleep,
                    )
                )
            finally:
                sys.stdout, sys.stderr = stdout, stderr

    def verdict_seconds(self) -> float:
        clocked = self.state["clocked"]
        applied = next(t for t, e in clocked if e.startswith("apply --filename /"))
        judged = next(t for t, e in clocked if e.startswith("diagnose"))
        return float(judged - applied)


def timed(command: list[str], cwd: Path, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=ENV, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    module = driver()
    with tempfile.TemporaryDirectory() as root:
        project, template = rendered(Path(root))
        print("time from the apply to a failing release's verdict (fake clock, poll 2 s):")
        for how, visible in (("crashloop", 5), ("imagepull", 3), ("oom", 4)):
            for grace in ("10s", "0"):
                run = Run(project, template, module)
                assert run.deploy("1.0.0") == 0
                run.state["behaviour"] = {f"{IMAGE}:1.0.1": {"state": how, "after": visible}}
                assert run.deploy("1.0.1", "--fail-grace", grace) == 4
                seconds = run.verdict_seconds()
                print(
                    f"  {how:9} first seen at {visible} s, FAIL_GRACE={grace:3}: "
                    f"{seconds:5.1f} s (progress deadline: 90 s, {90 / seconds:.1f}x later)"
                )

        cpu, calls = [], 0
        for _ in range(args.rounds):
            run = Run(project, template, module)
            assert run.deploy("1.0.0") == 0
            started = time.perf_counter()
            assert run.deploy("1.0.1") == 0
            cpu.append(time.perf_counter() - started)
            calls = len(run.state["log"])
        manifest = project / "build" / "kube" / "staging.deploy.yaml"
        startup = timed(
            [
                "python3",
                "kube/deploy",
                "apply",
                *("--env", "staging", "--namespace", "n", "--deployment", "shop"),
                *("--manifest", str(manifest), "--dry-run"),
            ],
            project,
            args.rounds,
        )
        validate = ["python3", "-m", "kubestep.kube.validate", str(manifest)]
        validation = timed(validate, project, max(3, args.rounds // 4))
        kubectl_start = timed(["kubectl", "version", "--client"], project, args.rounds)
        # A bare deploy: `kubectl apply` and one `kubectl rollout status` that sees it done.
        extra = calls - 2
        own = statistics.median(cpu)
        total = startup + validation + own + extra * kubectl_start
        print("the driver's overhead per successful upgrade (zero-latency cluster):")
        median = f"median of {args.rounds}, the fake cluster's work included"
        print(f"  its own work in-process:          {own * 1000:7.1f} ms ({median})")
        print(f"  start of python3 kube/deploy:     {startup * 1000:7.1f} ms")
        print(f"  offline validation (1.29-1.37):   {validation * 1000:7.1f} ms")
        each = f"{kubectl_start * 1000:.0f} ms"
        print(f"  kubectl calls: {calls} (bare: 2), {extra} extra at {each} each")
        print(f"  added time, lower bound:          {total:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
