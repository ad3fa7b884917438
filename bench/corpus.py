"""Run kubestep on real public repositories, as a new user would, and print what happened.

For every entry of bench/corpus.txt (``owner/name commit  # notes``) this makes a fresh git
checkout of the repository at that commit and runs, each stage timed with a one-line outcome:

1. ``inventory``: ``inv inventory --target REPO`` (must end without a traceback);
2. ``steps``: ``inv migrate --step 3 --target REPO`` (steps 1, 2 and 3, a commit each);
3. ``build``: ``make docker_build`` on the local base image, with the host CA bundle;
4. ``run``: ``make run_local``, then an HTTP GET of a route the inventory found (below 500 is
   an answer);
5. ``plus1``: ``inv migrate --step +1``, ``make run_local`` again and ``GET /ready`` (200).

Each row also gives the Python kubestep decided (``legacy.python``); a stage is ``ok``, ``FAIL``,
``stop`` (kubestep's own one-line error), ``py`` (a build that failed and needs another Python
than the local base image's) or ``skip``.

Docker stages of one repository run under ``flock /tmp/kubestep-docker.lock`` and end with
``docker compose down -v`` in their own compose project. The repositories' code is never part
of kubestep: where the trees come from is one of

* ``--source DIR``: exported trees ``DIR/owner+name/`` (copied, their own ``.git`` ignored);
* ``--mirror DIR``: bare git snapshots ``DIR/owner+name/repo[/.git]`` (blobs missing from a
  snapshot, such as files of 4 MiB and more, are skipped and listed);
* ``--clone``: ``git fetch`` of the commit from ``https://github.com/owner/name`` where the
  network allows it.

``--export DIR`` only writes the exported trees (each a git repository with one commit) and
stops. Results go to ``--results`` as JSON as well; the table is printed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KUBESTEP = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().with_name("corpus.txt")
DOCKER_LOCK = Path("/tmp/kubestep-docker.lock")
STAGES = ("inventory", "steps", "build", "run", "plus1")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "kubestep corpus",
    "GIT_AUTHOR_EMAIL": "corpus@kubestep.invalid",
    "GIT_COMMITTER_NAME": "kubestep corpus",
    "GIT_COMMITTER_EMAIL": "corpus@kubestep.invalid",
}
# Images built on this machine (inv base-image, inv local-images); none is ever pulled. The
# bench may run another checkout than its own, so these are spelled out, not imported.
LOCAL_IMAGES = {
    "BASE_IMAGE": "kubestep-local/python:3.11-bookworm",
    "POSTGRES_IMAGE": "kubestep-local/postgres:15",
    "MYSQL_IMAGE": "kubestep-local/mariadb:10.11",
    "REDIS_IMAGE": "kubestep-local/redis:7",
    "MEMCACHED_IMAGE": "kubestep-local/memcached:1.6",
    "RABBITMQ_IMAGE": "kubestep-local/rabbitmq:3.10",
}
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
LOCAL_PYTHON = "3.11"  # the Python of BASE_IMAGE; a repo that needs another is not kubestep's fault
TIMEOUTS = {"inventory": 180, "steps": 600, "build": 1200, "run": 420, "plus1": 900}
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Entry:
    """One corpus line: a repository, the commit it is tested at, and why it is there."""

    repo: str
    commit: str
    notes: str = ""

    @property
    def slug(self) -> str:
        return self.repo.replace("/", "+")

    @property
    def project(self) -> str:
        """A compose project and image name: lower case letters, digits and dashes."""
        return "corpus-" + re.sub(r"[^a-z0-9]+", "-", self.slug.lower()).strip("-")


@dataclass
class StageResult:
    stage: str
    status: str  # ok, FAIL, stop (kubestep's one-line error), py (needs another Python), skip
    seconds: float
    outcome: str


@dataclass
class RepoResult:
    repo: str
    commit: str
    stages: list[StageResult] = field(default_factory=list)
    seconds: float = 0.0
    python: str = "-"  # the Python kubestep decided (legacy.python), "-" when none


def parse_corpus(text: str) -> list[Entry]:
    """The entries of a corpus file; a malformed line is a ValueError naming its number."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line, _, notes = raw.partition("#")
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise ValueError(f"line {number}: want `owner/name commit  # notes`, got {raw!r}")
        repo, commit = words
        if not _REPO.match(repo):
            raise ValueError(f"line {number}: {repo!r} is not owner/name")
        if not _COMMIT.match(commit):
            raise ValueError(f"line {number}: {commit!r} is not a 40-digit commit")
        if repo in seen:
            raise ValueError(f"line {number}: {repo} is listed twice")
        seen.add(repo)
        entries.append(Entry(repo, commit, notes.strip()))
    return entries


def first_error_line(output: str) -> str:
    """The line that says what went wrong: a traceback's last line, an error line, or the end."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    if not lines:
        return "(no output)"
    exception = re.compile(r"[\w.]*(Error|Exception|Exit)\b.*:")
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        # The app's own exception, not gunicorn's "Worker failed to boot" that follows it.
        raised = [ln for ln in lines if exception.match(ln) and "HaltServer" not in ln]
        tail = raised or [line for line in lines if not line.startswith(" ")]
        return "Traceback: " + tail[-1].strip()
    for line in lines:
        if line.lstrip().lower().startswith("error:") or line.lstrip().startswith("ERROR:"):
            return line.strip()
    for line in reversed(lines):  # a Python exception whose traceback began above the tail
        if exception.match(line.strip()):
            return line.strip()
    for line in reversed(lines):
        if re.search(r"error|failed|unhealthy|exited", line, re.IGNORECASE):
            return line.strip()
    return lines[-1].strip()


def one_line(text: str, width: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- getting the trees -------------------------------------------------------------------------


def mirror_git_dir(mirror: Path, entry: Entry) -> Path | None:
    for candidate in (mirror / entry.slug / "repo" / ".git", mirror / entry.slug / "repo"):
        if (candidate / "objects").is_dir():
            return candidate
    return None


def export_from_git(git_dir: Path, commit: str, dest: Path) -> list[str]:
    """Write commit's tree into dest from a git dir that may lack blobs; list what is missing."""
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", "--full-tree", commit],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8", "surrogateescape")
    items = []
    for record in filter(None, listing.split("\0")):
        meta, path = record.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob":
            items.append((mode, sha, path))
    missing: list[str] = []
    with subprocess.Popen(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as batch:
        assert batch.stdin and batch.stdout
        for mode, sha, path in items:
            batch.stdin.write(sha.encode() + b"\n")
            batch.stdin.flush()
            header = batch.stdout.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                missing.append(path)
                continue
            data = batch.stdout.read(int(header[2]))
            batch.stdout.read(1)
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if mode == "120000":
                target.symlink_to(os.fsdecode(data))
            else:
                target.write_bytes(data)
                if mode == "100755":
                    target.chmod(0o755)
        batch.stdin.close()
    return missing


def clone_commit(entry: Entry, dest: Path) -> str:
    """Fetch the one commit into dest, without its .git; the commit's date."""
    dest.mkdir(parents=True)
    url = f"https://github.com/{entry.repo}.git"
    for command in (
        ["git", "init", "-q"],
        ["git", "fetch", "-q", "--depth", "1", url, entry.commit],
        ["git", "checkout", "-q", "FETCH_HEAD"],
    ):
        subprocess.run(command, cwd=dest, check=True, capture_output=True)
    date = commit_date(dest / ".git")
    shutil.rmtree(dest / ".git")
    return date


def commit_date(git_dir: Path, commit: str = "HEAD") -> str:
    """The commit's committer date (ISO 8601), or "" where git cannot tell."""
    shown = subprocess.run(
        ["git", "--git-dir", str(git_dir), "log", "-1", "--format=%cI", commit],
        capture_output=True,
        text=True,
    )
    return shown.stdout.strip() if shown.returncode == 0 else ""


def make_one_commit_repo(tree: Path, entry: Entry, date: str = "") -> None:
    """One commit of the whole tree, dated as the upstream commit was: kubestep resolves what
    the requirements leave open as of their last commit, and this history has only the one."""
    env = {**os.environ, **GIT_IDENTITY}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A", "-f", "."],
        ["git", "commit", "-q", "--no-verify", "-m", f"{entry.repo} at {entry.commit}"],
    ):
        subprocess.run(command, cwd=tree, check=True, capture_output=True, env=env)


def fresh_checkout(entry: Entry, dest: Path, sources: Sources) -> str:
    """Put entry's tree at dest as a git repo with one commit; say where it came from."""
    if dest.exists():
        shutil.rmtree(dest)
    note = date = ""
    exported = sources.source / entry.slug if sources.source else None
    git_dir = mirror_git_dir(sources.mirror, entry) if sources.mirror else None
    if exported and exported.is_dir():
        shutil.copytree(exported, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        date = commit_date(exported / ".git")
        note = f"from {exported}"
    elif git_dir:
        dest.mkdir(parents=True)
        date = commit_date(git_dir, entry.commit)
        missing = export_from_git(git_dir, entry.commit, dest)
        note = f"from {git_dir}" + (
            f", {len(missing)} blobs missing: {missing[:3]}" if missing else ""
        )
    elif sources.clone:
        date = clone_commit(entry, dest)
        note = f"cloned from https://github.com/{entry.repo}"
    else:
        raise RuntimeError(f"no tree for {entry.repo}: give --source, --mirror or --clone")
    make_one_commit_repo(dest, entry, date)
    return note


@dataclass(frozen=True)
class Sources:
    source: Path | None
    mirror: Path | None
    clone: bool


# -- running the stages ------------------------------------------------------------------------


@dataclass
class Run:
    """Runs one command with a timeout, logging everything to the repository's log."""

    log: Path
    env: dict[str, str]

    def __call__(self, command: list[str], cwd: Path, timeout: float) -> tuple[int, str]:
        started = time.monotonic()
        with self.log.open("a") as log:
            log.write(f"\n$ (cd {cwd} && {' '.join(command)})\n")
            log.flush()
            try:
                done = subprocess.run(
                    command,
                    cwd=cwd,
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    text=True,
                    errors="replace",
                )
                output, code = done.stdout, done.returncode
            except subprocess.TimeoutExpired as expired:
                output = (
                    (expired.stdout or b"").decode("utf-8", "replace")
                    if isinstance(expired.stdout, bytes)
                    else (expired.stdout or "")
                )
                output += f"\ntimed out after {timeout:.0f} s"
                code = 124
            log.write(output)
            log.write(f"\n[exit {code} after {time.monotonic() - started:.1f} s]\n")
        return code, output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 10.0) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(200).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(200).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        return None, str(error)


def _legacy_answers(tree: Path) -> dict[str, Any]:
    import yaml

    answers = tree / ".copier-answers.yml"
    data = yaml.safe_load(answers.read_text()) if answers.is_file() else None
    legacy = (data or {}).get("legacy") if isinstance(data, dict) else None
    return legacy if isinstance(legacy, dict) else {}


def probe_route(tree: Path) -> tuple[str, str]:
    """The route to GET after run_local and where it came from: the route kubestep's `make
    verify` exercises (the status check, else a route found in the code), or /."""
    legacy = _legacy_answers(tree)
    sample = legacy.get("sample_route")
    if isinstance(sample, str) and sample.startswith("/"):
        origin = "status check" if sample == legacy.get("status_path") else "a route in the code"
        return sample, origin
    status_path = legacy.get("status_path")
    if isinstance(status_path, str) and status_path.startswith("/"):
        return status_path, "inventory status_path"
    return "/", "no route in the inventory"


def ready_path(tree: Path) -> str:
    """Where the +1 runtime answers readiness (moved when the app serves /ready itself)."""
    chosen = _legacy_answers(tree).get("probe_paths") or {}
    path = chosen.get("ready") if isinstance(chosen, dict) else None
    return path if isinstance(path, str) and path.startswith("/") else "/ready"


@contextlib.contextmanager
def docker_lock() -> Iterator[None]:
    with DOCKER_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compose_down(run: Run, tree: Path) -> None:
    compose = compose_command()
    run([*compose, "down", "--volumes", "--remove-orphans", "--timeout", "5"], tree, 120)


def compose_command() -> list[str]:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    return ["docker", "compose"] if probe.returncode == 0 else ["docker-compose"]


@dataclass(frozen=True)
class PinFix:
    """A pin kubestep said to raise or remove: its file, line and the version it needs."""

    path: str
    line: int
    spec: str
    minimum: str | None  # None: remove the line

    @property
    def shown(self) -> str:
        return f"{self.spec} -> >={self.minimum}" if self.minimum else f"{self.spec} removed"


_PIN = re.compile(
    r"(?P<spec>[A-Za-z0-9][\w.\-\[\],]*[=~<>!]=?[^\s(]*) \((?P<path>[^():]+):(?P<line>\d+)\):"
    r"[^;]*; (?:raise it to >=(?P<minimum>[\d.]+)|remove it)"
)


def pin_fixes(line: str) -> list[PinFix]:
    """The pins a step-2 stop line tells the user to raise or remove, as a user reads them."""
    return [PinFix(m["path"], int(m["line"]), m["spec"], m["minimum"]) for m in _PIN.finditer(line)]


def apply_pin_fixes(tree: Path, fixes: list[PinFix], run: Run) -> bool:
    """Edit each named line as the stop line says and commit, as a user would."""
    for fix in fixes:
        path = tree / fix.path
        lines = path.read_text().splitlines(keepends=True)
        if not 0 < fix.line <= len(lines):
            return False
        name = re.split(r"[=<>~!\[;\s]", lines[fix.line - 1].strip(), maxsplit=1)[0]
        lines[fix.line - 1] = f"{name}>={fix.minimum}\n" if fix.minimum else ""
        path.write_text("".join(lines))
    message = "Raise the pins kubestep named: " + ", ".join(fix.shown for fix in fixes)
    code, _ = run(["git", "commit", "-qam", message], tree, 60)
    return code == 0


def kubestep_stop(output: str) -> str | None:
    """The one `error:` line kubestep's make targets print before compose runs, if any."""
    for line in output.splitlines():
        if line.startswith("error: ") and "cannot be pulled" in line:
            return line
    return None


def compose_error(output: str) -> str:
    """What compose said when run_local failed: a container that exited or stayed unhealthy."""
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    for pattern in (
        r"exited \(\d+\)|is unhealthy|dependency failed",
        r"Error response|pull access|error",
        r"timed out",
    ):
        for line in lines:
            if re.search(pattern, line, re.IGNORECASE) and not line.startswith("make: ***"):
                return line
    return first_error_line(output)


def unhealthy_reason(run: Run, tree: Path) -> str:
    """The app container's state and its last log line, for a run_local that did not come up."""
    compose = compose_command()
    _, ps = run(
        [*compose, "ps", "--all", "--format", "{{.Service}} {{.State}} {{.Status}}"], tree, 60
    )
    _, logs = run(
        [*compose, "logs", "--no-color", "--no-log-prefix", "--tail", "40", "app"], tree, 60
    )
    state = next((line for line in ps.splitlines() if line.startswith("app ")), "app: no container")
    last = first_error_line(logs.split("\n[exit")[0]) if logs.strip() else "(no app logs)"
    return f"{one_line(state, 60)}; app log: {last}"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.kubestep = Path(args.kubestep)
        self.inv = str(self.kubestep / ".venv" / "bin" / "inv")
        venv_bin = str(Path(args.kubestep) / ".venv" / "bin")
        self.env = {
            **os.environ,
            **GIT_IDENTITY,
            **{k: os.environ.get("CORPUS_" + k, v) for k, v in LOCAL_IMAGES.items()},
            "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
            "DOCKER_BUILDKIT": "0",
            "COMPOSE_DOCKER_CLI_BUILD": "0",
        }

    def run_repo(self, entry: Entry) -> RepoResult:
        result = RepoResult(entry.repo, entry.commit)
        started = time.monotonic()
        # Named like the repository, as a user's clone is: kubestep names the service after it.
        tree = Path(self.args.work) / entry.slug / entry.repo.split("/")[1]
        logs = Path(self.args.work) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{entry.slug}.log"
        log.write_text(f"# {entry.repo} {entry.commit}\n")
        env = {**self.env, "COMPOSE_PROJECT_NAME": entry.project}
        run = Run(log, env)
        try:
            note = fresh_checkout(entry, tree, self.args.sources)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
            result.stages.append(StageResult("checkout", "FAIL", 0.0, one_line(str(error))))
            return result
        with log.open("a") as handle:
            handle.write(f"checkout {note}\n")
        wanted = self.args.stages
        status: dict[str, str] = {}

        def stage(name: str, body: object) -> None:
            if name not in wanted:
                return
            begun = time.monotonic()
            try:
                outcome_status, outcome = body()  # type: ignore[operator]
            except Exception as error:  # a bench bug must not hide the other repositories
                outcome_status, outcome = "FAIL", f"bench error: {error!r}"
            status[name] = outcome_status
            result.stages.append(
                StageResult(name, outcome_status, time.monotonic() - begun, one_line(outcome))
            )
            print(
                f"  {entry.repo:45} {name:9} {outcome_status:4} {one_line(outcome, 110)}",
                flush=True,
            )

        port = free_port()
        make_vars = [
            f"IMAGE=kubestep-corpus/{entry.project}",
            "TAG=corpus",
            f"BASE_IMAGE={env['BASE_IMAGE']}",
            f"CA_BUNDLE={self.args.ca_bundle}",
            f"LOCAL_PORT={port}",
        ]

        def inventory() -> tuple[str, str]:
            code, output = run(
                [self.inv, "inventory", "--target", str(tree)], self.kubestep, TIMEOUTS["inventory"]
            )
            if code != 0 or "Traceback (most recent call last)" in output:
                return "FAIL", first_error_line(output)
            return "ok", inventory_summary(tree)

        def steps() -> tuple[str, str]:
            raised: list[str] = []
            for _ in range(4):  # kubestep names two pins at a time
                code, output = run(
                    [self.inv, "migrate", "--step", "3", "--target", str(tree)],
                    self.kubestep,
                    TIMEOUTS["steps"],
                )
                if code != 0 and "Traceback (most recent call last)" not in output:
                    line = first_error_line(output)
                    if line.startswith("error:"):  # kubestep stopped and said why: not a crash
                        fixes = pin_fixes(line) if self.args.answer_stops else []
                        if fixes and apply_pin_fixes(tree, fixes, run):
                            raised += [fix.shown for fix in fixes]
                            continue
                        return "stop", line
                if code != 0 or "Traceback (most recent call last)" in output:
                    return "FAIL", first_error_line(output)
                if raised:
                    return "ans", f"{step_summary(tree)} after {', '.join(raised)}"
                return "ok", step_summary(tree)
            return "stop", f"still stopped after {', '.join(raised)}"

        def build() -> tuple[str, str]:
            if status.get("steps") not in ("ok", "ans"):
                return "skip", "steps 1-3 did not finish"
            code, output = run(["make", "docker_build", *make_vars], tree, TIMEOUTS["build"])
            if code != 0 and needs_other_python(result.python):
                return (
                    "py",
                    f"needs Python {result.python}, the local base has {LOCAL_PYTHON}: "
                    + (build_error(output)),
                )
            if code != 0:
                return "FAIL", build_error(output)
            return "ok", f"image kubestep-corpus/{entry.project}:corpus"

        def serve(route: str, want: str) -> tuple[str, str]:
            code, output = run(["make", "run_local", *make_vars], tree, TIMEOUTS["run"])
            url = f"http://127.0.0.1:{port}{route}"
            answer, body = http_get(url)
            stopped = kubestep_stop(output) if code != 0 else None
            if stopped:  # kubestep's own one line before compose ran: what a user reads
                return "stop", stopped
                return "FAIL", f"run_local: image build: {build_error(output)}"
            if code != 0:
                reason = unhealthy_reason(run, tree)
                got = f"GET {route}: {answer}" if answer else f"GET {route}: no answer"
                return "FAIL", f"run_local: {compose_error(output)}; {reason}; {got}"
            if answer is None:
                return "FAIL", f"GET {route}: {body}"
            good = answer == 200 if want == "200" else answer < 500
            return ("ok" if good else "FAIL"), f"GET {route} -> {answer}"

        def answer(line: str) -> str | None:
            """Give the `--set` answer that kubestep's one line names, as a user would."""
            match = re.search(r"--set (without=[\w,]+)", line)
            if match is None or not self.args.answer_stops:
                return None
            code, _ = run(
                [self.inv, "migrate", "--step", "3", "--target", str(tree), "--set", match[1]],
                self.kubestep,
                TIMEOUTS["steps"],
            )
            return match[1] if code == 0 else None

        def run_local() -> tuple[str, str]:
            if status.get("build") != "ok":
                return "skip", "no image"
            route, origin = probe_route(tree)
            try:
                verdict, outcome = serve(route, "<500")
                given = answer(outcome) if verdict == "stop" else None
                if given:
                    verdict, outcome = serve(route, "<500")
                    verdict = "ans" if verdict == "ok" else verdict
                    outcome = f"{outcome} after --set {given}"
            finally:
                compose_down(run, tree)
            return verdict, f"{outcome} ({origin})"

        def plus1() -> tuple[str, str]:
            if status.get("steps") not in ("ok", "ans"):
                return "skip", "steps 1-3 failed"
            raised: list[str] = []
            for _ in range(3):  # a pin the runtime cannot start with: raised as the line says
                code, output = run(
                    [self.inv, "migrate", "--step", "+1", "--target", str(tree)],
                    self.kubestep,
                    TIMEOUTS["plus1"],
                )
                fixes = []
                if code != 0 and "Traceback (most recent call last)" not in output:
                    line = first_error_line(output)
                    fixes = pin_fixes(line) if self.args.answer_stops else []
                if not fixes or not apply_pin_fixes(tree, fixes, run):
                    break
                raised += [fix.shown for fix in fixes]
            if code != 0 or "Traceback (most recent call last)" in output:
                return "FAIL", "migrate +1: " + first_error_line(output)
            if status.get("build") != "ok":
                return "FAIL", "migrate +1 ok; not run: the image of step 2 did not build"
            try:
                verdict, outcome = serve(ready_path(tree), "200")
            finally:
                compose_down(run, tree)
            if raised:
                return (
                    "ans" if verdict == "ok" else verdict
                ), f"{outcome} after {', '.join(raised)}"
            return verdict, outcome

        stage("inventory", inventory)
        stage("steps", steps)
        result.python = decided_python(tree)
        docker_stages = [name for name in ("build", "run", "plus1") if name in wanted]
        if docker_stages:
            with docker_lock():
                stage("build", build)
                stage("run", run_local)
                stage("plus1", plus1)
        result.seconds = time.monotonic() - started
        return result


def needs_other_python(version: str) -> bool:
    """Whether kubestep decided a Python other than the local base image's (3.6 vs 3.11)."""
    return version != "-" and version.split(".")[:2] != LOCAL_PYTHON.split(".")


def decided_python(tree: Path) -> str:
    """The Python version kubestep chose for the image (legacy.python of the answers), or -."""
    import yaml

    answers = tree / ".copier-answers.yml"
    if not answers.is_file():
        return "-"
    python = ((yaml.safe_load(answers.read_text()) or {}).get("legacy") or {}).get("python")
    version = python.get("version") if isinstance(python, dict) else python
    return str(version) if version else "-"


def inventory_summary(tree: Path) -> str:
    import yaml

    data = yaml.safe_load((tree / ".kubestep" / "inventory.yml").read_text()) or {}
    entry = data.get("entrypoint") or {}

    def value(fact: object) -> object:
        return fact.get("value") if isinstance(fact, dict) else fact

    services = ",".join(s.get("kind", "?") for s in data.get("backing_services") or [])
    requirements = ",".join(data.get("requirements_files") or []) or "-"
    return (
        f"cmd={value(entry.get('command'))!s:.70} port={value(entry.get('port'))} "
        f"framework={value(data.get('framework'))} reqs={requirements} "
        f"backing={services or '-'} warnings={len(data.get('warnings') or [])}"
    )


def step_summary(tree: Path) -> str:
    dockerfiles = sorted(p.name for p in tree.iterdir() if p.name.lower().startswith("dockerfile"))
    composes = sorted(
        p.name for p in tree.iterdir() if re.match(r"(docker-)?compose.*\.ya?ml$", p.name)
    )
    cmd = ""
    kubestep_dockerfile = tree / "Dockerfile"
    if kubestep_dockerfile.is_file():
        lines = [
            ln
            for ln in kubestep_dockerfile.read_text().splitlines()
            if ln.startswith(("CMD", "ENTRYPOINT"))
        ]
        cmd = lines[-1] if lines else ""
    return f"{','.join(dockerfiles)} {','.join(composes)} {cmd}"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def build_error(output: str) -> str:
    """The line of a failed docker build that names the cause, with the step or package it hit."""
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    step = next((ln for ln in reversed(lines) if re.match(r"Step \d+/\d+ : ", ln)), "")
    building = re.compile(
        r"(?:Collecting|Building wheel for|Running setup.py install for) ([^\s:(]+)"
    )
    package = next((m.group(1) for ln in reversed(lines) if (m := building.match(ln))), "")
    for pattern in (
        r"^Get \"https://|pull access denied|manifest unknown",
        r"^E: |^Package \S+ is not available",
        r"^ERROR: (Could not|No matching|Cannot|Failed|Invalid|Directory)",
        r"COPY failed|failed to compute cache key|no such file or directory",
        r"Error: pg_config|\.c:\d+:\d+: (fatal )?error:",
        r"ModuleNotFoundError|ImportError|SyntaxError|^error in .* setup command:|^Error: ",
        r"error: command '",
        r"^error: (?!subprocess-exited|metadata-generation)",
        r"returned a non-zero code",
    ):
        for line in lines:
            if re.search(pattern, line):
                if line.startswith("Get ") and step:
                    return f"{step.split(' : ', 1)[1]}: {line}"
                if package and "pip install" in step:
                    return f"{package}: {line}"
                return line
    return first_error_line("\n".join(lines))


def print_table(results: list[RepoResult]) -> None:
    print()
    print(f"{'repository':40} {'python':6} {'stage':9} {'':4} {'s':>6}  outcome")
    for repo in results:
        for item in repo.stages:
            print(
                f"{repo.repo:40} {repo.python:6} {item.stage:9} {item.status:4} "
                f"{item.seconds:6.1f}  {item.outcome}"
            )
        print(f"{repo.repo:40} {repo.python:6} {'wall':9} {'':4} {repo.seconds:6.1f}")
    print()
    print("totals:")
    for name in STAGES:
        rows = [s for r in results for s in r.stages if s.stage == name]
        if rows:
            counts = {
                word: sum(s.status == word for s in rows)
                for word in ("ok", "ans", "stop", "py", "skip")
            }
            answered = (
                f", {counts['ans']} ok once answered as kubestep said" if counts["ans"] else ""
            )
            print(
                f"  {name:9} {counts['ok']}/{len(results)} ok{answered}, {counts['stop']} stopped"
                f" with one line, {counts['py']} need another Python, {counts['skip']} skipped"
            )
    built = sum(s.stage == "build" and s.status == "ok" for r in results for s in r.stages)
    for name in ("run", "plus1"):
        rows = [s for r in results for s in r.stages if s.stage == name]
        if rows and built:
            up = sum(s.status in ("ok", "ans") for s in rows)
            print(f"  {name:9} {up} of the {built} with an image answer")
    print(f"  wall      {sum(r.seconds for r in results):.0f} s for {len(results)} repositories")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", default=str(CORPUS), help="the corpus file (default: bench/corpus.txt)"
    )
    parser.add_argument("--source", help="exported trees DIR/owner+name/")
    parser.add_argument("--mirror", help="bare git snapshots DIR/owner+name/repo")
    parser.add_argument(
        "--clone", action="store_true", help="fetch a commit from GitHub when no tree is given"
    )
    parser.add_argument(
        "--export", help="only write each tree to DIR/owner+name/ (a git repo) and stop"
    )
    parser.add_argument(
        "--work", default="/tmp/kubestep-corpus", help="where the checkouts and logs go"
    )
    parser.add_argument(
        "--kubestep", default=str(KUBESTEP), help="the kubestep checkout (with .venv) to test"
    )
    parser.add_argument(
        "--only", nargs="*", default=[], help="repositories (owner/name or name) to run"
    )
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated stages to run")
    parser.add_argument(
        "--answer-stops",
        action="store_true",
        help="where run_local stops with one line naming a --set answer, give it and run again",
    )
    parser.add_argument("--ca-bundle", default=CA_BUNDLE, help="CA_BUNDLE for the image builds")
    parser.add_argument("--results", help="write the results as JSON to this file")
    args = parser.parse_args(argv)
    try:
        entries = parse_corpus(Path(args.corpus).read_text())
    except (OSError, ValueError) as error:
        print(f"error: {args.corpus}: {error}", file=sys.stderr)
        return 2
    if args.only:
        entries = [e for e in entries if e.repo in args.only or e.repo.split("/")[1] in args.only]
    args.stages = [s for s in args.stages.split(",") if s]
    unknown = sorted(set(args.stages) - set(STAGES))
    if unknown:
        print(f"error: unknown stages {unknown} (known: {', '.join(STAGES)})", file=sys.stderr)
        return 2
    args.sources = Sources(
        Path(args.source) if args.source else None,
        Path(args.mirror) if args.mirror else None,
        args.clone,
    )
    if args.export:
        for entry in entries:
            note = fresh_checkout(entry, Path(args.export) / entry.slug, args.sources)
            print(f"{entry.repo}: {note}")
        return 0
    bench = Bench(args)
    results = []
    for entry in entries:
        print(f"{entry.repo} {entry.commit[:12]}  # {entry.notes[:90]}", flush=True)
        results.append(bench.run_repo(entry))
        if args.results:
            Path(args.results).write_text(json.dumps([asdict(r) for r in results], indent=1))
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
