"""A fake kubectl with a tiny API server behind it, for the deploy's tests (there is no cluster
here). It keeps objects in a JSON state file, records every command it is given, and answers
with the shapes and messages a real Kubernetes 1.32 API server and kubectl gave (see
../shared/KUBERNETES.md): pods of a failing release are the recorded ones of
tests/fixtures/kube/pods.json, relabelled for the ReplicaSet they belong to.

What it simplifies: `apply` replaces an object's content with the manifest's (the outcome of
kubectl's three-way merge for objects that only kubectl apply writes), the Deployment
controller finishes a healthy rollout at once (or after `after` seconds), and a release's
behaviour is chosen by its image.

    python tests/fake_cluster.py ARGS...   with FAKE_KUBE_STATE=state.json
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kube"
REVISION = "deployment.kubernetes.io/revision"
# The recorded pods that show each way a release fails.
RECORDED_POD = {"crashloop": "shop-7c9f8d6b5d-2nq8w", "imagepull": "shop-7c9f8d6b5d-k4d9z"}
PLURAL = {"deployment": "deployments.apps", "lease": "leases.coordination.k8s.io"}


class Failed(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']}"


def kind_of(word: str) -> str:
    base = word.split(".")[0].split("/")[0].lower().rstrip("s")
    return {
        "deployment": "Deployment",
        "namespace": "Namespace",
        "configmap": "ConfigMap",
        "lease": "Lease",
        "service": "Service",
        "ingresse": "Ingress",
        "ingress": "Ingress",
        "poddisruptionbudget": "PodDisruptionBudget",
        "replicaset": "ReplicaSet",
        "pod": "Pod",
    }[base]


def template_hash(template: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def recorded_pod(name: str) -> dict[str, Any]:
    pods = json.loads((FIXTURES / "pods.json").read_text())["items"]
    return copy.deepcopy(next(p for p in pods if p["metadata"]["name"] == name))


class FakeCluster:
    """The state and the commands; `now` is the clock (a fake one in-process)."""

    def __init__(self, state: dict[str, Any], now: Callable[[], float] = time.time) -> None:
        self.state = state
        state.setdefault("objects", {})
        state.setdefault("log", [])
        state.setdefault("rv", 1000)
        state.setdefault("behaviour", {})
        state.setdefault("deny", {})
        self.now = now

    # -- plumbing -------------------------------------------------------------------------
    @property
    def objects(self) -> dict[str, dict[str, Any]]:
        return self.state["objects"]  # type: ignore[no-any-return]

    def find(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get(f"{kind}/{namespace if kind != 'Namespace' else ''}/{name}")

    def store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.state["rv"] += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.state["rv"])
        meta.setdefault("uid", f"uid-{meta['name']}-{self.state['rv']}")
        self.objects[key(obj)] = obj
        return obj

    def __call__(self, args: Sequence[str], stdin: str | None = None) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of `kubectl ARGS`."""
        entry = " ".join(args)
        if stdin:
            body = json.loads(stdin)
            entry += f" <{body['kind']} {body['metadata']['name']}>"
        self.state["log"].append(entry)
        self.state.setdefault("clocked", []).append([self.now(), entry])
        try:
            return 0, self.dispatch(list(args), stdin), ""
        except Failed as failed:
            return failed.code, "", str(failed) + "\n"

    def dispatch(self, args: list[str], stdin: str | None) -> str:
        options, words = self.options(args)
        verb = words[0]
        if verb == "get":
            return self.get(words[1:], options)
        if verb == "apply":
            return self.apply(options)
        if verb in ("create", "replace"):
            return self.write(verb, json.loads(stdin or "{}"))
        if verb == "delete":
            return self.delete(words[1], options)
        if verb == "rollout" and words[1] == "undo":
            return self.undo(words[2].split("/")[1], options["--namespace"])
        if verb == "diagnose":
            return f"(the diagnosis of {words[1]} in {options['--namespace']})\n"
        raise Failed(f'error: unknown command "{verb}" for "kubectl"')

    @staticmethod
    def options(args: list[str]) -> tuple[dict[str, str], list[str]]:
        options, words = {}, []
        index = 0
        while index < len(args):
            arg = args[index]
            if arg.startswith("--") and "=" in arg:
                name, value = arg.split("=", 1)
                options[name] = value
            elif arg in ("--ignore-not-found",):
                options[arg] = "true"
            elif arg.startswith("--"):
                options[arg] = args[index + 1]
                index += 1
            else:
                words.append(arg)
            index += 1
        return options, words

    # -- verbs ----------------------------------------------------------------------------
    def get(self, words: list[str], options: dict[str, str]) -> str:
        namespace = options.get("--namespace", "")
        kind = kind_of(words[0])
        if kind in ("ReplicaSet", "Pod"):
            found = self.replicasets(namespace) if kind == "ReplicaSet" else self.pods(namespace)
            wanted = dict(p.split("=") for p in options.get("--selector", "").split(",") if p)
            found = [o for o in found if wanted.items() <= o["metadata"]["labels"].items()]
            return json.dumps({"apiVersion": "v1", "kind": "List", "items": found})
        obj = self.find(kind, namespace, words[1])
        if obj is None:
            plural = PLURAL.get(kind.lower(), kind.lower() + "s")
            raise Failed(f'Error from server (NotFound): {plural} "{words[1]}" not found')
        if kind == "Deployment":
            self.tamper(obj)
        return json.dumps(obj)

    def apply(self, options: dict[str, str]) -> str:
        path = options["--filename"]
        documents = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
        if "--selector" in options:
            name, value = options["--selector"].split("=")
            documents = [
                d for d in documents if (d["metadata"].get("labels") or {}).get(name) == value
            ]
        dry = options.get("--dry-run") == "server"
        results, lines = [], []
        for document in documents:
            kind, meta = document["kind"], document["metadata"]
            namespace = meta.get("namespace", "")
            # A dry run creates nothing: not even the namespace the other objects need.
            if kind != "Namespace" and self.find("Namespace", "", namespace) is None:
                raise Failed(
                    f'Error from server (NotFound): error when creating "{path}": '
                    f'namespaces "{namespace}" not found'
                )
            if kind in self.state["deny"]:
                raise Failed(
                    f'Error from server (Forbidden): error when creating "{path}": '
                    f'{PLURAL.get(kind.lower(), kind.lower())} "{meta["name"]}" is forbidden: '
                    "ValidatingAdmissionPolicy 'kubestep-critical-rules' with binding "
                    f"'kubestep-critical-rules' denied request: {self.state['deny'][kind]}"
                )
            existing = self.find(kind, namespace, meta["name"])
            suffix = " (server dry run)" if dry else ""
            verb = "created" if existing is None else "configured"
            lines.append(f"{kind.lower()}/{meta['name']} {verb}{suffix}")
            if dry:
                results.append(copy.deepcopy(document))
            else:
                results.append(self.put(copy.deepcopy(document), existing))
        if options.get("--output") == "json":
            return json.dumps({"apiVersion": "v1", "kind": "List", "items": results})
        return "\n".join(lines) + "\n"

    def put(self, obj: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        if existing:
            obj["metadata"]["uid"] = existing["metadata"]["uid"]
            obj["metadata"]["generation"] = existing["metadata"].get("generation", 1)
            obj["status"] = existing.get("status", {})
            if REVISION in (existing["metadata"].get("annotations") or {}):
                obj["metadata"].setdefault("annotations", {}).setdefault(
                    REVISION, existing["metadata"]["annotations"][REVISION]
                )
        if obj["kind"] == "Deployment":
            self.roll(obj, existing)
            if "tamper_image" in self.state:
                self.state["tamper_next_get"] = self.state.pop("tamper_image")
        return self.store(obj)

    def write(self, verb: str, body: dict[str, Any]) -> str:
        namespace = body["metadata"].get("namespace", "")
        existing = self.find(body["kind"], namespace, body["metadata"]["name"])
        plural = PLURAL.get(body["kind"].lower(), body["kind"].lower() + "s")
        name = body["metadata"]["name"]
        if verb == "create" and existing is not None:
            raise Failed(f'Error from server (AlreadyExists): {plural} "{name}" already exists')
        if verb == "replace":
            if existing is None:
                raise Failed(f'Error from server (NotFound): {plural} "{name}" not found')
            if body["metadata"].get("resourceVersion") != existing["metadata"]["resourceVersion"]:
                raise Failed(
                    'Error from server (Conflict): error when replacing "STDIN": Operation '
                    f'cannot be fulfilled on {plural} "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again"
                )
            body["metadata"]["uid"] = existing["metadata"]["uid"]
        return json.dumps(self.store(body))

    def delete(self, ref: str, options: dict[str, str]) -> str:
        kind, name = kind_of(ref), ref.split("/", 1)[1]
        obj = self.objects.pop(f"{kind}/{options.get('--namespace', '')}/{name}", None)
        return f"{ref} deleted\n" if obj else ""

    # -- the Deployment controller --------------------------------------------------------
    def roll(self, deployment: dict[str, Any], existing: dict[str, Any] | None) -> None:
        """A new pod template is a new revision, with a ReplicaSet of its own."""
        meta = deployment["metadata"]
        template = deployment["spec"]["template"]
        history = self.state.setdefault("history", {}).setdefault(
            f"{meta['namespace']}/{meta['name']}", []
        )
        old = existing["spec"]["template"] if existing else None
        meta.setdefault("annotations", {})
        if template != old:
            meta["generation"] = int(meta.get("generation") or 0) + 1
            history.append({"template": template, "at": self.now()})
            meta["annotations"][REVISION] = str(len(history))
        self.settle(deployment)

    def settle(self, deployment: dict[str, Any]) -> None:
        """The status the controller reports for the current template's behaviour."""
        image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        behaviour = self.behaviour(image)
        wanted = int(deployment["spec"].get("replicas", 1))
        ready = behaviour["state"] == "ready" and self.age(deployment) >= behaviour["after"]
        previous = deployment.get("status") or {}
        old_available = int(previous.get("availableReplicas") or 0) if not ready else 0
        deployment["status"] = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": wanted if ready else old_available + 1,
            "updatedReplicas": wanted if ready else 1,
            "availableReplicas": wanted if ready else old_available,
            "readyReplicas": wanted if ready else old_available,
        }

    def behaviour(self, image: str) -> dict[str, Any]:
        found = dict(self.state["behaviour"].get(image) or {"state": "ready"})
        found.setdefault("after", 0)
        return found

    def age(self, deployment: dict[str, Any]) -> float:
        meta = deployment["metadata"]
        history = self.state["history"][f"{meta['namespace']}/{meta['name']}"]
        return self.now() - float(history[-1]["at"])

    def tamper(self, deployment: dict[str, Any]) -> None:
        """Someone else's change (kubectl set image by hand) right after an apply."""
        image = self.state.pop("tamper_next_get", None)
        if image:
            deployment["spec"]["template"]["spec"]["containers"][0]["image"] = image
        else:
            self.settle(deployment)

    def undo(self, name: str, namespace: str) -> str:
        deployment = self.find("Deployment", namespace, name)
        history = self.state.get("history", {}).get(f"{namespace}/{name}", [])
        current = deployment["spec"]["template"] if deployment else None
        earlier = [h["template"] for h in history if h["template"] != current]
        if deployment is None or not earlier:
            raise Failed(f'error: no rollout history found for deployment "{name}"')
        deployment = copy.deepcopy(deployment)
        deployment["spec"]["template"] = earlier[-1]
        self.roll(deployment, self.find("Deployment", namespace, name))
        self.store(deployment)
        return f"deployment.apps/{name} rolled back\n"

    def replicasets(self, namespace: str) -> list[dict[str, Any]]:
        found = []
        for deployment in [o for o in self.objects.values() if o["kind"] == "Deployment"]:
            meta = deployment["metadata"]
            if meta["namespace"] != namespace:
                continue
            history = self.state["history"][f"{namespace}/{meta['name']}"]
            revisions: dict[str, int] = {}
            for number, entry in enumerate(history, start=1):
                revisions[template_hash(entry["template"])] = number
            labels = deployment["spec"]["selector"]["matchLabels"]
            for digest, number in revisions.items():
                found.append(
                    {
                        "kind": "ReplicaSet",
                        "metadata": {
                            "name": f"{meta['name']}-{digest}",
                            "namespace": namespace,
                            "labels": {**labels, "pod-template-hash": digest},
                            "annotations": {REVISION: str(number)},
                            "ownerReferences": [{"kind": "Deployment", "uid": meta["uid"]}],
                        },
                    }
                )
        return found

    def pods(self, namespace: str) -> list[dict[str, Any]]:
        """The current revision's pods, as the recorded ones of its behaviour."""
        found = []
        for deployment in [o for o in self.objects.values() if o["kind"] == "Deployment"]:
            if deployment["metadata"]["namespace"] != namespace:
                continue
            template = deployment["spec"]["template"]
            digest = template_hash(template)
            behaviour = self.behaviour(template["spec"]["containers"][0]["image"])
            state = behaviour["state"]
            if state != "ready" and self.age(deployment) < behaviour["after"]:
                state = "starting"
            pod = self.pod(state)
            pod["metadata"].update(
                name=f"{deployment['metadata']['name']}-{digest}-a1b2c",
                namespace=namespace,
                labels={**template["metadata"]["labels"], "pod-template-hash": digest},
            )
            found.append(pod)
        return found

    @staticmethod
    def pod(state: str) -> dict[str, Any]:
        if state in RECORDED_POD:
            return recorded_pod(RECORDED_POD[state])
        pod = recorded_pod("shop-7c9f8d6b5d-2nq8w")
        status = pod["status"]["containerStatuses"][0]
        if state == "oom":
            status["lastState"]["terminated"].update(reason="OOMKilled", exitCode=137)
            status["state"] = {"running": {"startedAt": "2025-03-04T09:15:03Z"}}
        elif state == "configerror":
            status["state"] = {
                "waiting": {
                    "reason": "CreateContainerConfigError",
                    "message": 'secret "shop-secrets" not found',
                }
            }
            status["lastState"], status["restartCount"] = {}, 0
        else:  # ready, or starting: running, readiness not passed yet
            status["state"] = {"running": {"startedAt": "2025-03-04T09:12:44Z"}}
            status["lastState"], status["restartCount"] = {}, 0
            status["ready"] = state == "ready"
        return pod


@contextmanager
def locked_state(path: Path) -> Iterator[dict[str, Any]]:
    """The state file, held exclusively: two deploys may run at once."""
    with open(path, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        state = json.loads(handle.read() or "{}")
        yield state
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(state))


def main(argv: Sequence[str]) -> int:
    stdin = sys.stdin.read() if argv[:1] in (["create"], ["replace"]) else None
    with locked_state(Path(os.environ["FAKE_KUBE_STATE"])) as state:
        code, out, err = FakeCluster(state)(argv, stdin or None)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
