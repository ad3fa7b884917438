"""Deploy one environment as a whole, or roll it back: what `make kube_apply` and `make
kube_rollback` run (python3 kube/deploy apply|rollback ...).

Phases of `apply`: validate offline (`make validate`'s rules), a server-side dry run of the
whole release (admission policies included), the environment's Lease, a record of the attempt,
`kubectl apply`, a watch that fails fast on the new pods' fatal states, and then either a check
that the live Deployment runs what was applied, or the rollback of the whole release to the
last good one (its manifest re-applied, the objects the failed release added deleted).
Exit codes are listed in EXIT and in kubestep's docs/kubernetes.rst.
"""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from deploy_kubectl import (
    Answer,
    Kubectl,
    KubectlFailed,
    Runner,
    items,
    last_line,
    subprocess_runner,
)
from deploy_lease import Lease, Locked, LockLost, identity
from deploy_release import Record, Release
from deploy_watch import (
    FATAL_WAITING,
    FailFast,
    dig,
    fatal_states,
    new_replicaset,
    rollout_progress,
)

LIVE, UNCHANGED, LOCKED, ROLLED_BACK, FIRST_FAILED, BROKEN, NOT_LIVE = 0, 1, 3, 4, 5, 6, 7
EXIT = {
    LIVE: "the release is live: the Deployment runs the images this deploy applied",
    UNCHANGED: "refused before anything changed (invalid, denied by the server, bad input)",
    LOCKED: "another deploy holds the environment; nothing changed",
    ROLLED_BACK: "the release failed; the last good release is back, every object as it was",
    FIRST_FAILED: "the environment's first release failed; nothing to go back to, left as is",
    BROKEN: "the release failed and so did the rollback (or the deploy was cut off): act",
    NOT_LIVE: "applied, but the live Deployment runs something else (changed outside make)",
}
APPLY_FIRST = "kubestep.dev/apply-first=true"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")


class Stop(Exception):
    """End the deploy with `code`, after printing `message` on stderr."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def seconds(text: str) -> float:
    """90, 90s, 2m, 1.5h, 500ms -> seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 90s, 2m)")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match[2] or "s"]
    return float(match[1]) * scale


class Deploy:
    """One run of `apply` or `rollback` against one environment."""

    def __init__(
        self,
        options: argparse.Namespace,
        run: Runner,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.o = options
        self.kc = Kubectl(run)
        self.now, self.sleep = now, sleep
        self.ns, self.name = options.namespace, options.deployment
        self.lease = Lease(
            self.kc,
            self.ns,
            f"{self.name}-deploy",
            identity(f"{options.command} {options.env} {options.what}".strip()),
            int(options.lock_ttl),
            now,
            sleep,
        )
        self.changed = False

    # -- apply --------------------------------------------------------------------------
    def apply(self) -> int:
        manifest = self._manifest_text()
        self.validate()
        if self.kc.get("namespace", self.ns) is None:
            print(f"{self.ns} does not exist yet: the first deploy of {self.o.env} creates it")
            self._refused(lambda: self.kc("apply", "--dry-run=server", *self._first()))
            self.kc("apply", *self._first())
        self._lock()
        try:
            return self._apply_locked(manifest)
        finally:
            self.lease.release()

    def _first(self) -> list[str]:
        return ["--filename", str(self.o.manifest), "--selector", APPLY_FIRST]

    def _apply_locked(self, manifest: str) -> int:
        dry = self._refused(
            lambda: self.kc.json("apply", "--dry-run=server", "--filename", str(self.o.manifest))
        )
        release = Release(manifest, items(dry), self.name)
        record = Record(self.kc, self.ns, self.name)
        first = self.kc.get("deployment", self.name, self.ns) is None
        prior = record.slots["good"]
        record.write(attempt=release)
        self.changed = True
        try:
            self.kc("apply", "--filename", str(self.o.manifest))
            failure = self.watch()
        except KubectlFailed as error:  # e.g. a webhook that failed after the dry run
            failure = str(error)
        if not failure:
            self.check_live(release, NOT_LIVE)
            record.write(good=release, previous=prior, attempt=None)
            print(f"{', '.join(release.images)} is live in {self.o.env}")
            return LIVE
        self.diagnose()
        if first:
            raise Stop(FIRST_FAILED, self._first_failed(release, failure))
        return self.restore(record, release, prior, failure)

    def _first_failed(self, release: Release, failure: str) -> str:
        live = self.kc.get("deployment", self.name, self.ns) or {}
        ready = dig(live, "status", "readyReplicas") or 0
        wanted = dig(live, "spec", "replicas") or 0
        return "\n".join(
            [
                f"error: {release.version} did not roll out in {self.o.env} ({failure}); this "
                f"was the first deploy of {self.o.env}, so there is no earlier release to go "
                "back to: nothing was rolled back.",
                f"left in namespace {self.ns}: {', '.join(release.refs)}; "
                f"deployment/{self.name} has {ready} of {wanted} pods ready.",
                f"what you can do: fix it and deploy again (make kube_apply ENV={self.o.env} "
                f"TAG=...), stop its pods (kubectl scale deployment/{self.name} --replicas 0 "
                f"--namespace {self.ns}), or remove the release (kubectl delete --filename "
                f"{self.o.manifest}).",
            ]
        )

    # -- rollback -----------------------------------------------------------------------
    def rollback(self) -> int:
        """`make kube_rollback`: undo a cut-off deploy, else go back one release."""
        self._lock()
        try:
            record = Record(self.kc, self.ns, self.name)
            good, previous, attempt = (record.slots[s] for s in ("good", "previous", "attempt"))
            if attempt is not None and good is not None:
                self.restore(record, attempt, good, "")
                print(f"{self.o.env} is back at {good.version}, every object as it had them")
                return LIVE
            if previous is not None and good is not None:
                self.changed = True
                self._reapply(good, previous)
                record.write(good=previous, previous=None, attempt=None)
                print(f"{self.o.env} is back at {previous.version}, every object as it had them")
                return LIVE
            if good is None and attempt is not None:
                raise Stop(
                    UNCHANGED,
                    f"error: {self.o.env} has no good release on record (its first deploy, "
                    f"{attempt.version}, failed): nothing to roll back to; stop its pods with "
                    f"kubectl scale deployment/{self.name} --replicas 0 --namespace {self.ns}",
                )
            if good is not None:
                raise Stop(
                    UNCHANGED,
                    f"error: {self.o.env} has no release before {good.version} on record "
                    f"(configmap/{record.name}): nothing to roll back to",
                )
            self.changed = True
            self._undo()
            print(f"{self.o.env}: the Deployment's pod template is back at its previous revision")
            return LIVE
        finally:
            self.lease.release()

    def restore(self, record: Record, failed: Release, prior: Release | None, why: str) -> int:
        """Bring back prior as a whole (or, with no record, the pod template) after failed."""
        if prior is None:
            self._undo()
            record.write(attempt=None)
            raise Stop(
                ROLLED_BACK,
                f"error: {failed.version} did not roll out in {self.o.env} ({why}): rolled "
                "back the Deployment's pod template only (kubectl rollout undo), since there is "
                f"no record of the last good release yet (configmap/{record.name}); the other "
                "objects keep what this release wrote. Every successful deploy records itself.",
            )
        removed = self._reapply(failed, prior)
        record.write(attempt=None)
        if not why:
            return LIVE
        gone = f"; removed what it added: {', '.join(removed)}" if removed else ""
        raise Stop(
            ROLLED_BACK,
            f"error: {failed.version} did not roll out in {self.o.env} ({why}): rolled back to "
            f"{prior.version}, every object as that release had it{gone}",
        )

    def _reapply(self, failed: Release, prior: Release) -> list[str]:
        path = Path(self.o.manifest).with_name(f"{self.o.env}.last-good.yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(prior.manifest)
        try:
            self.kc("apply", "--filename", str(path))
            removed = []
            for ref in sorted(set(failed.refs) - set(prior.refs)):
                if not ref.startswith("namespace/"):
                    self.kc("delete", ref, "--namespace", self.ns, "--ignore-not-found")
                    removed.append(ref)
        except KubectlFailed as error:
            raise Stop(BROKEN, f"error: the rollback to {prior.version} failed: {error}") from None
        failure = self.watch()
        if failure:
            raise Stop(
                BROKEN, f"error: the rollback to {prior.version} did not roll out: {failure}"
            )
        self.check_live(prior, BROKEN)
        return removed

    def _undo(self) -> None:
        try:
            self.kc("rollout", "undo", f"deployment/{self.name}", "--namespace", self.ns)
        except KubectlFailed as error:
            raise Stop(BROKEN, f"error: the rollback failed: {last_line(error.answer)}") from None
        failure = self.watch()
        if failure:
            raise Stop(BROKEN, f"error: the rollback did not roll out: {failure}")

    # -- phases -------------------------------------------------------------------------
    def _manifest_text(self) -> str:
        try:
            return Path(self.o.manifest).read_text()
        except OSError as error:
            raise Stop(UNCHANGED, f"error: cannot read {self.o.manifest}: {error}") from None

    def validate(self) -> None:
        """`make validate`'s rules on the exact file to apply; nothing changes if they fail."""
        if not self.o.validate:
            return
        command = [*shlex.split(self.o.validate), str(self.o.manifest)]
        print(shlex.join(command), flush=True)
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise Stop(UNCHANGED, f"error: {command[0]!r} (KUBE_VALIDATE) not found") from None
        print(done.stdout, end="")
        if "No module named" in done.stderr:
            raise Stop(
                UNCHANGED,
                f"error: {command[0]} cannot run `make validate`'s rules "
                f"({last_line(Answer(done.returncode, done.stdout, done.stderr))}): "
                "install kubestep for it (pip install kubestep) or set KUBE_VALIDATE=",
            )
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise Stop(
                UNCHANGED,
                f"error: {self.o.manifest} breaks `make validate`'s rules (above): nothing was "
                "changed",
            )

    def _refused(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except KubectlFailed as error:
            raise Stop(
                UNCHANGED,
                f"error: the API server refused the release in its dry run: "
                f"{last_line(error.answer)}; nothing of it was changed",
            ) from None

    def _lock(self) -> None:
        try:
            self.lease.acquire(self.o.lock_wait)
        except Locked as locked:
            raise Stop(
                LOCKED,
                f"error: {self.o.env} is being deployed by {locked.holder} since "
                f"{locked.since}: wait for it, or pass LOCK_WAIT=5m to wait (lease/"
                f"{self.lease.name} in {self.ns}; it expires {self.o.lock_ttl:.0f} s after its "
                "holder's last renewal)",
            ) from None

    def watch(self) -> str:
        """'' once the rollout is complete, else why it failed (fast on fatal pod states)."""
        deadline = self.now() + self.o.timeout
        fail_fast = FailFast(self.o.fail_grace)
        said = ""
        while True:
            self.lease.renew()
            deployment = self.kc.get("deployment", self.name, self.ns, quiet=True)
            if deployment is None:
                return f"deployment/{self.name} does not exist"
            progress = rollout_progress(deployment)
            if progress.failure or progress.done:
                print(progress.summary or progress.failure)
                return progress.failure
            failed = fail_fast.verdict(self._new_pod_states(deployment), self.now())
            if failed:
                return "; ".join(str(f) for f in failed)
            if progress.summary != said:
                print(progress.summary, flush=True)
                said = progress.summary
            if self.now() >= deadline:
                return f"not rolled out within {self.o.timeout:.0f} s (ROLLOUT_TIMEOUT)"
            self.sleep(self.o.poll)

    def _new_pod_states(self, deployment: dict[str, Any]) -> list[Any]:
        labels = dig(deployment, "spec", "selector", "matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        replicasets = self.kc.json(
            "get", "replicasets", "--namespace", self.ns, "--selector", selector, quiet=True
        )
        current = new_replicaset(deployment, items(replicasets))
        template_hash = dig(current, "metadata", "labels", "pod-template-hash")
        if not template_hash:
            return []
        pods = self.kc.json(
            "get",
            "pods",
            "--namespace",
            self.ns,
            "--selector",
            f"{selector},pod-template-hash={template_hash}",
            quiet=True,
        )
        return fatal_states(items(pods))

    def check_live(self, release: Release, code: int) -> None:
        """The live Deployment runs release's images with release's deploy stamp."""
        live = self.kc.get("deployment", self.name, self.ns) or {}
        pod = dig(live, "spec", "template") or {}
        images = [str(c.get("image")) for c in dig(pod, "spec", "containers") or []]
        stamp = dig(pod, "metadata", "annotations", "kubestep.dev/deployed-at") or ""
        if images != release.images or stamp != release.deployed_at:
            raise Stop(
                code,
                f"error: deployment/{self.name} in {self.o.env} runs {', '.join(images) or '?'} "
                f"(deployed at {stamp or '?'}), not {', '.join(release.images)} (deployed at "
                f"{release.deployed_at}): it was changed outside this deploy, which is not live",
            )

    def diagnose(self) -> None:
        try:
            answer = self.kc("diagnose", "--namespace", self.ns, self.name)
        except KubectlFailed as error:
            print(f"diagnosis unavailable: {error}")
            return
        print(answer.out, end="")


def plan(o: argparse.Namespace) -> list[str]:
    """What `apply` (an upgrade that succeeds) or `rollback` runs, for DRY_RUN=1."""
    kc, ns, name, m = "kubectl", o.namespace, o.deployment, o.manifest
    get = f"--namespace {ns} --output json"
    fatal = "|".join((*FATAL_WAITING, "OOMKilled"))
    last_good = Path(m).with_name(o.env + ".last-good.yaml")
    if o.command == "rollback":
        return [
            f"{kc} get lease {name}-deploy {get}",
            f"{kc} replace --filename - --output json",
            f"{kc} get configmap {name}-releases {get}",
            f"# the release before the current one (or the current one, after a cut-off "
            f"deploy) is written to {last_good}",
            f"{kc} apply --filename {last_good}",
            f"# {kc} delete <what the current release added> --namespace {ns}",
            f"# the watch, then the live check: {kc} get deployment {name} {get}",
            f"{kc} replace --filename - --output json",
            f"{kc} replace --filename - --output json",
        ]
    return [
        f"{kc} get namespace {ns} --output json",
        f"# a first deploy creates the namespace: {kc} apply --filename {m} "
        f"--selector {APPLY_FIRST}",
        f"{kc} get lease {name}-deploy {get}",
        f"{kc} replace --filename - --output json",
        f"{kc} apply --dry-run=server --filename {m} --output json",
        f"{kc} get configmap {name}-releases {get}",
        f"{kc} get deployment {name} {get}",
        f"{kc} replace --filename - --output json",
        f"{kc} apply --filename {m}",
        f"# every {o.poll:g} s for up to {o.timeout:g} s: the Deployment, its new ReplicaSet "
        f"and pods; fail when {fatal} lasts {o.fail_grace:g} s",
        f"{kc} get deployment {name} {get}",
        f"{kc} replace --filename - --output json",
        f"{kc} replace --filename - --output json",
        f"# on failure: {kc} diagnose --namespace {ns} {name}; {kc} apply --filename "
        f"{last_good}; {kc} delete <what the release added>",
    ]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kube/deploy", description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["apply", "rollback"])
    p.add_argument("--kubectl", type=shlex.split, default=["kubectl"])
    p.add_argument("--env", required=True)
    p.add_argument("--namespace", required=True)
    p.add_argument("--deployment", required=True)
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--what", default="", help="what is deployed, for the lock's holder")
    p.add_argument("--validate", default="", help="the offline validation command")
    p.add_argument("--timeout", type=seconds, default=120.0)
    p.add_argument("--fail-grace", type=seconds, default=10.0)
    p.add_argument("--poll", type=seconds, default=2.0)
    p.add_argument("--lock-ttl", type=seconds, default=60.0)
    p.add_argument("--lock-wait", type=seconds, default=0.0)
    p.add_argument("--dry-run", action="store_true")
    return p


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(
    argv: Sequence[str] | None = None,
    run: Runner | None = None,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    options = parser().parse_args(argv)
    deploy = Deploy(options, run or subprocess_runner(options.kubectl), now, sleep)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if options.dry_run:
            if options.command == "apply":
                deploy._manifest_text()
                deploy.validate()
            print("\n".join(plan(options)))
            return LIVE
        return deploy.apply() if options.command == "apply" else deploy.rollback()
    except Stop as stop:
        print(str(stop), file=sys.stderr)
        return stop.code
    except (KubectlFailed, LockLost) as error:
        if deploy.changed:
            print(
                f"error: the deploy stopped half-way: {error}; make kube_rollback "
                f"ENV={options.env} restores the last good release",
                file=sys.stderr,
            )
            return BROKEN
        print(f"error: {error}; nothing was changed", file=sys.stderr)
        return UNCHANGED
    except KeyboardInterrupt:
        hint = f"; make kube_rollback ENV={options.env} restores the last good release"
        print(f"error: interrupted{hint if deploy.changed else ''}", file=sys.stderr)
        return BROKEN if deploy.changed else UNCHANGED


if __name__ == "__main__":
    sys.exit(main())
