"""Service discovery kept in sync with Consul by its own engine, consul-k8s catalog sync: the
annotations that opt the Service in, the values fragment for the platform team's Helm release,
and the CoreDNS stanza that makes `.consul` names resolve in the cluster."""

from __future__ import annotations

from typing import Any

ANNOTATION = "consul.hashicorp.com"


def found(answers: dict[str, Any]) -> bool:
    """Whether the legacy service used Consul: a config section, key or host that says so,
    or the consul package on its boxes."""
    if answers.get("origin") != "legacy":
        return False
    legacy = answers.get("legacy") or {}
    for section, values in (legacy.get("example_config") or {}).items():
        if "consul" in section.lower():
            return True
        for key, value in (values or {}).items():
            text = str(value).lower()
            if "consul" in key.lower() or text.endswith(".consul") or ".consul:" in text:
                return True
    return "consul" in (legacy.get("system_packages") or [])


def in_use(answers: dict[str, Any]) -> bool:
    return answers.get("service_discovery") == "consul"


def service_annotations(answers: dict[str, Any]) -> dict[str, str]:
    """The base Service's opt-in; each overlay sets its own service-name."""
    return {
        f"{ANNOTATION}/service-sync": "true",
        f"{ANNOTATION}/service-tags": f"{answers.get('team', 'platform')},kubernetes",
    }


def sync_values(answers: dict[str, Any]) -> dict[str, Any]:
    """consul-k8s Helm values: both directions, only annotated Services, no prefixes on the
    names the Services set themselves, the namespace as a suffix for the others."""
    name = answers["service_name"]
    return {
        "syncCatalog": {
            "enabled": True,
            "toConsul": True,
            "toK8S": True,
            # Only Services that opt in with consul.hashicorp.com/service-sync: "true".
            "default": False,
            "k8sAllowNamespaces": [f"{name}-{env}" for env in answers.get("environments") or []],
            "k8sDenyNamespaces": ["kube-system", "kube-public"],
            # Names from Kubernetes keep the annotation's name; without one, <service>-<namespace>.
            "addK8SNamespaceSuffix": True,
            "consulPrefix": "",
            # Consul services appear in Kubernetes as ExternalName Services named consul-<name>.
            "k8sPrefix": "consul-",
            "k8sTag": "kubernetes",
            "syncClusterIPServices": True,
        }
    }


def coredns_stanza() -> str:
    return (
        "# CoreDNS: resolve .consul names through Consul's DNS (consul-k8s's consul-dns Service).\n"
        "# Add to the Corefile (kubectl -n kube-system edit configmap coredns); forward needs an\n"
        "# IP: kubectl -n consul get service consul-dns -o jsonpath='{.spec.clusterIP}'\n"
        "consul:53 {\n"
        "    errors\n"
        "    cache 30\n"
        "    forward . CONSUL_DNS_CLUSTER_IP\n"
        "}\n"
    )
