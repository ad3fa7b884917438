"""Check results and how they are shown, so every check reports the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

OK, FAIL, SKIP = "ok", "FAIL", "skip"


@dataclass(frozen=True)
class Result:
    """One check's outcome: OK, FAIL (detail says why) or SKIP (detail says why not run)."""

    status: str
    check: str
    detail: str = ""

    def line(self) -> str:
        text = f"{self.status:<6}{self.check}"
        return f"{text}: {self.detail}" if self.detail else text


def outcome(passed: bool, check: str, detail: str = "") -> Result:
    return Result(OK if passed else FAIL, check, detail)


def summary(results: Sequence[Result]) -> str:
    counts = {status: sum(r.status == status for r in results) for status in (OK, FAIL, SKIP)}
    verdict = "passed" if counts[FAIL] == 0 else "FAILED"
    return f"verify {verdict}: {counts[OK]} ok, {counts[FAIL]} failed, {counts[SKIP]} skipped"


@dataclass
class Report:
    """Prints each result as it comes (a live run takes minutes) and keeps them all."""

    out: Callable[[str], None] = field(default=lambda line: print(line, flush=True))
    results: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        self.out(result.line())
        return result

    def note(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.out(f"      | {line}")

    @property
    def failed(self) -> bool:
        return any(r.status == FAIL for r in self.results)
