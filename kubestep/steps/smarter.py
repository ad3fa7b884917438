"""Step +1, make the app smarter: from an app that only serves to one that tells the platform
how it is (health, readiness, metrics, info, JSON logs) and stops gracefully, without a change
to its code: a new module wraps it, and the image starts that module instead.

gunicorn serves it either way: a WSGI app with threads, an ASGI app (FastAPI, Starlette,
Django's asgi.py) with uvicorn's worker, as the repo's own server served it.
"""

from pathlib import Path

from kubestep import inventory as inventory_reader
from kubestep import user_answers
from kubestep.plus_one import runtime_answers
from kubestep.steps import PLUS_ONE, Answers, Step


def decide(target: Path, answers: Answers) -> Answers:
    """How to serve and check the app, from the recorded inventory and the repo's files, with
    its dependencies as the repo has them now: a pin raised since step 2 (as a stop of this
    step asks) is what the image installs, so it is what the checks read."""
    legacy = answers.get("legacy") or {}
    inventory = inventory_reader.load(target).to_dict()
    inventory["dependencies"] = inventory_reader.collect(target).to_dict()["dependencies"]
    services = legacy.get("backing_services") or []
    runtime = runtime_answers(inventory, services, user_answers.load(target), target)
    return {**answers, "legacy": {**legacy, "runtime": runtime}}


STEP = Step(
    number=PLUS_ONE,
    label="+1",
    title="make the app smarter: health, readiness, metrics, info, JSON logs, graceful stop",
    answer="smarter",
    needs=3,
    adds=[
        "kubestep_app.py: the app behind kubestep_runtime (/health, /ready on its backing "
        "services, /metrics, /info, request logs); your code is unchanged",
        "every config file key overridable as SECTION_KEY, checked at start (fail fast)",
        "kubestep_gunicorn.py and a new image start command (an ASGI app runs under uvicorn's "
        "worker); graceful stop on SIGTERM",
        "make verify: the contract checked live with docker compose",
    ],
    decide=decide,
)
