"""Step 3, run locally: from "works on the old box" to `make run_local` with docker compose,
the service and its backing services on one machine, because every later step needs a fast,
faithful local loop."""

from kubestep.steps import Step

STEP = Step(
    number=3,
    label="3",
    title="run locally: make run_local with docker compose",
    adds=[
        "compose.yaml: the service and its backing services (every image overridable), "
        "healthchecks, named volumes",
        "config/local.env and config/local.ini: local configuration, no secrets",
        "make run_local / stop_local / logs_local, README 'Run locally'",
    ],
)
