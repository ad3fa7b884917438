"""Step 6, keep it running: from Nagios on boxes to alerts by labels and legacy services
bridged into cluster DNS, because a migration is done only when it is operated."""

from kubestep.steps import Step

STEP = Step(
    number=6,
    label="6",
    title="keep it running: legacy services in cluster DNS, alerts by labels",
    answer="keep_running",
    needs=4,
    adds=["ExternalName services for legacy dependencies, alert rules by labels"],
    available=False,
)
