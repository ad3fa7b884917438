"""Step 4, Kubernetes: from one box to manifests per environment, rendered offline and
deployed atomically, because a deploy must be reviewable and reversible."""

from kubestep.steps import Step

STEP = Step(
    number=4,
    label="4",
    title="Kubernetes config per environment, kube_create_config and kube_apply",
    adds=[
        "kube/: kustomize manifests with one small place per environment",
        "make kube_create_config / kube_apply (atomic, with rollback) / status / logs / ssh",
    ],
)
