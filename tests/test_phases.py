"""Long commands as one timed line each, their output in a log file (kubestep.phases)."""

from pathlib import Path

import pytest

from kubestep.phases import PhaseFailed, duration, log_dir, run_phase


def test_a_phase_prints_one_line_with_its_time_and_logs_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logs" / "phase.log"
    command = ["sh", "-c", "echo Reading package lists; echo to stderr >&2"]

    seconds = run_phase("base image", command, log)

    captured = capsys.readouterr()
    assert captured.out == f"base image ... {duration(seconds)}\n"
    assert captured.err == ""
    assert log.read_text().splitlines() == [
        "+ sh -c 'echo Reading package lists; echo to stderr >&2'",
        "Reading package lists",
        "to stderr",
    ]


def test_a_failed_phase_shows_its_last_lines_and_names_its_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "engine.log"
    command = ["sh", "-c", "for i in $(seq 1 40); do echo line $i; done; exit 3"]

    with pytest.raises(PhaseFailed) as failure:
        run_phase("docker engine", command, log)

    assert str(failure.value) == f"docker engine failed (exit 3); its output is in {log}"
    captured = capsys.readouterr()
    assert captured.out.startswith("docker engine ... failed after ")
    assert captured.err.splitlines() == [f"  line {i}" for i in range(26, 41)]
    assert "line 1\n" in log.read_text()


def test_logs_go_beside_the_image_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBESTEP_CACHE", str(tmp_path / "cache"))
    assert log_dir() == tmp_path / "cache" / "logs"
    monkeypatch.delenv("KUBESTEP_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert log_dir() == tmp_path / ".cache" / "kubestep" / "logs"


@pytest.mark.parametrize(("seconds", "shown"), [(0.04, "0.0 s"), (3.26, "3.3 s"), (52.4, "52 s")])
def test_durations_show_tenths_only_under_ten_seconds(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown
