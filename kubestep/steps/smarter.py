"""Step +1, make the app smarter: from an app that only serves to one that tells the platform
how it is (health, readiness, metrics, info, JSON logs) and stops gracefully."""

from kubestep.steps import PLUS_ONE, Step

STEP = Step(
    number=PLUS_ONE,
    label="+1",
    title="make the app smarter: health, readiness, metrics, info, JSON logs, graceful stop",
    adds=["a WSGI/ASGI wrapper with /health, /ready, /metrics, /info; JSON logs; fail fast"],
    available=False,
)
