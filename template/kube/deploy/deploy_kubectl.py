"""One way to run kubectl for the deploy: print each command that changes something, hand
JSON on stdin, and turn a failure into one line with kubectl's own last message.

Standard library only (Python 3.9+): the deploy runs wherever `make` and `kubectl` do,
without kubestep.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

# klog lines (I0304 09:12:40.123 ...) are kubectl's own chatter, not its answer.
_KLOG_LINE = re.compile(r"^[IWEF]\d{4} ")


class Answer(NamedTuple):
    code: int
    out: str
    err: str


# args, stdin -> answer
Runner = Callable[..., Answer]


class KubectlFailed(Exception):
    """kubectl exited non-zero: the message is the command and kubectl's last line."""

    def __init__(self, args: Sequence[str], answer: Answer) -> None:
        self.args_ = list(args)
        self.answer = answer
        super().__init__(f"`kubectl {shlex.join(args)}` failed: {last_line(answer)}")

    @property
    def not_found(self) -> bool:
        return "NotFound" in self.answer.err or "not found" in self.answer.err

    @property
    def already_exists(self) -> bool:
        return "AlreadyExists" in self.answer.err or "already exists" in self.answer.err

    @property
    def conflict(self) -> bool:
        return "Conflict" in self.answer.err or "has been modified" in self.answer.err


def last_line(answer: Answer) -> str:
    lines = [
        line.strip()
        for line in answer.err.splitlines()
        if line.strip() and not _KLOG_LINE.match(line)
    ]
    return lines[-1] if lines else f"exit code {answer.code}"


def subprocess_runner(command: Sequence[str]) -> Runner:
    """Runs `command ARGS` (command is e.g. ['kubectl']) with a 60 s limit per call."""

    def run(args: Sequence[str], stdin: str | None = None) -> Answer:
        try:
            done = subprocess.run(
                [*command, *args],
                input=stdin,
                # Never the terminal: kubectl must not wait for input the deploy cannot give.
                stdin=subprocess.DEVNULL if stdin is None else None,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except FileNotFoundError:
            return Answer(127, "", f"{command[0]!r} is not installed or not on PATH")
        except subprocess.TimeoutExpired:
            return Answer(124, "", "did not answer within 60 s")
        return Answer(done.returncode, done.stdout, done.stderr)

    return run


class Kubectl:
    """kubectl calls of one deploy. `quiet` calls (the watch's polling) are not printed."""

    def __init__(self, run: Runner, name: str = "kubectl", out: Any = None) -> None:
        self._run = run
        self.name = name
        self.out = out or sys.stdout

    def __call__(
        self, *args: str, stdin: str | None = None, quiet: bool = False, check: bool = True
    ) -> Answer:
        if not quiet:
            print(f"{self.name} {shlex.join(args)}", file=self.out, flush=True)
        answer = self._run(args, stdin)
        if check and answer.code != 0:
            raise KubectlFailed(args, answer)
        return answer

    def json(self, *args: str, stdin: str | None = None, quiet: bool = False) -> Any:
        return parse_json(self(*args, "--output", "json", stdin=stdin, quiet=quiet).out)

    def get(
        self, kind: str, name: str, namespace: str | None = None, quiet: bool = False
    ) -> Any | None:
        """The object, or None when it does not exist."""
        scope = ["--namespace", namespace] if namespace else []
        try:
            return self.json("get", kind, name, *scope, quiet=quiet)
        except KubectlFailed as error:
            if error.not_found:
                return None
            raise


def parse_json(text: str) -> Any:
    """kubectl's JSON: one document, several concatenated ones, or a List; a list of items
    for anything but a single object."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    position, text = 0, text.strip()
    while position < len(text):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
        while position < len(text) and text[position].isspace():
            position += 1
    if len(documents) == 1:
        return documents[0]
    return {"kind": "List", "items": documents}


def items(document: Any) -> list[Any]:
    """The objects of a List, or the one object."""
    if isinstance(document, dict) and document.get("kind", "").endswith("List"):
        return list(document.get("items") or [])
    return [document] if document else []
