"""Step 5, continuous deployment: from deploys by hand to CI that tests, builds, pushes and
rolls out, because releases should be boring."""

from kubestep.steps import Step

STEP = Step(
    number=5,
    label="5",
    title="continuous deployment: GitHub Actions and Travis",
    answer="continuous_deployment",
    needs=4,
    adds=["CI workflows: test, build, push, rolling update"],
    available=False,
)
