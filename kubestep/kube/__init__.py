"""Kubernetes manifests: schema and best-practice validation (kubestep.kube.validate) and
the diagnosis of pods that are not ready (kubestep.kube.diagnosis)."""
