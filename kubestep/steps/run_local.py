"""Step 3, run locally: from "works on the old box" to `make run_local` with docker compose,
the service and its backing services on one machine, because every later step needs a fast,
faithful local loop."""

from kubestep.steps import Step
from kubestep.steps.adopt import adopt_compose

STEP = Step(
    number=3,
    label="3",
    title="run locally: make run_local with docker compose",
    adds=[
        "compose.yaml: the service and its backing services (every image overridable), "
        "healthchecks, named volumes",
        "config/local.env and config/local.ini: local configuration, no secrets",
        "make run_local / stop_local / logs_local, README 'Run locally'",
        "your own compose file kept word for word as *.legacy.yml, so it never shadows ours",
    ],
    adjust=adopt_compose,
)
