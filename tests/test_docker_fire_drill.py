"""Docker tier, step 6's fire drill: a real Prometheus (Debian's, on 127.0.0.1) scrapes the
service `make run_local` runs, with the generated rules (a short `for:` in this test only).
Stopping the service fires InstanceDown with severity=page; starting it resolves it."""

import json
import re
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.docker_helpers import compose_leftovers, free_port, http_get, terminate, wait_for_status
from tests.monitoring_tools import require_tools
from tests.render import generate, make

pytestmark = pytest.mark.docker

SERVICE = "kubestep-fire-drill"
IMAGE = "kubestep-test/fire-drill"


def _query(prometheus: str, path: str, **params: str) -> dict:
    url = f"{prometheus}{path}?{urllib.parse.urlencode(params)}" if params else prometheus + path
    status, body = http_get(url)
    assert status == 200, body
    return json.loads(body)["data"]


def _instance_down(prometheus: str) -> list[dict]:
    return [
        a
        for a in _query(prometheus, "/api/v1/alerts")["alerts"]
        if a["labels"]["alertname"] == "InstanceDown"
    ]


def _wait(what: str, condition: Callable[[], bool], timeout: float = 90.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout} s")


@pytest.fixture
def drill(tmp_path: Path, base_image: str, ca_bundle: str | None) -> Iterator[dict]:
    require_tools()
    project = generate(tmp_path / SERVICE, service_name=SERVICE, image=IMAGE)
    port, prometheus_port = free_port(), free_port()
    variables = {
        "BASE_IMAGE": base_image,
        "CA_BUNDLE": ca_bundle or "",
        "LOCAL_PORT": str(port),
        "IMAGE": IMAGE,
        "TAG": "fire-drill",
    }
    rules = (project / "monitoring" / "alerts.yml").read_text()
    (tmp_path / "alerts.yml").write_text(re.sub(r"for: \d+m", "for: 3s", rules))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
        "rule_files": [str(tmp_path / "alerts.yml")],
        "scrape_configs": [
            {
                # As the ServiceMonitor does in the cluster: job = the service, with the
                # environment and team labels of its Service.
                "job_name": SERVICE,
                "static_configs": [
                    {
                        "targets": [f"127.0.0.1:{port}"],
                        "labels": {"environment": "production", "team": "platform"},
                    }
                ],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    prometheus = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    url = f"http://127.0.0.1:{prometheus_port}"
    try:
        started = make(project, "run_local", **variables)
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        wait_for_status(f"{url}/-/ready", timeout=30)
        yield {"project": project, "variables": variables, "prometheus": url}
    finally:
        stopped = make(project, "stop_local", **variables)
        terminate(prometheus)
    assert stopped.returncode == 0, stopped.stderr
    assert compose_leftovers(SERVICE) == {}


def test_stopping_the_service_fires_instance_down_and_starting_it_resolves_it(drill: dict) -> None:
    prometheus, project, variables = drill["prometheus"], drill["project"], drill["variables"]
    query = f'up{{job="{SERVICE}", environment="production"}}'

    def up() -> bool:
        result = _query(prometheus, "/api/v1/query", query=query)["result"]
        return bool(result) and result[0]["value"][1] == "1"

    _wait("a successful scrape of /metrics", up)
    assert _instance_down(prometheus) == []

    assert make(project, "stop_local", **variables).returncode == 0
    _wait(
        "InstanceDown firing",
        lambda: any(a["state"] == "firing" for a in _instance_down(prometheus)),
    )
    (alert,) = _instance_down(prometheus)
    assert alert["labels"]["severity"] == "page" and alert["labels"]["team"] == "platform"
    assert alert["annotations"]["runbook_url"].endswith("README.rst#alert-instancedown")

    restarted = make(project, "run_local", **variables)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    _wait("InstanceDown resolved", lambda: _instance_down(prometheus) == [])
    assert up()
