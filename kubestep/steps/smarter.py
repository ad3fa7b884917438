"""Step +1, make the app smarter: from an app that only serves to one that tells the platform
how it is (health, readiness, metrics, info, JSON logs) and stops gracefully, without a change
to its code: a new module wraps it, and the image starts that module instead."""

from kubestep.steps import PLUS_ONE, Step

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
        "kubestep_gunicorn.py and a new image start command; graceful stop on SIGTERM",
        "make verify: the contract checked live with docker compose",
    ],
)
