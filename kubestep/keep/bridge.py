"""Legacy services by cluster name: every host the legacy config names outside the cluster
becomes a Service in the environment's namespace, so the app moves without code changes.

A DNS name becomes an ExternalName Service; an IP a selector-less Service with its own
EndpointSlice (ExternalName does not resolve IPs). The config then names the Service.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kubestep.catalog import CATALOG
from kubestep.jinja_ext import k8s_slug

HOST_KEYS = {"host", "hostname", "server", "address", "addr"}
_URL_KEY = re.compile(r"(^|_)(url|uri)$")
_LOCAL = {"", "localhost", "127.0.0.1", "::1", "0.0.0.0"}
# A host name as a resolver takes it: dot-separated DNS labels.
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$"
)
MANAGED_BY = "kubestep"
COMPONENT = "legacy-bridge"


@dataclass(frozen=True)
class LegacyTarget:
    """One legacy host the config names, and the cluster name it gets."""

    name: str
    section: str
    key: str
    host: str
    port: int | None
    scheme: str = ""

    @property
    def is_ip(self) -> bool:
        return is_ip(self.host)

    @property
    def address_type(self) -> str:
        return "IPv6" if ":" in self.host else "IPv4"


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _port(text: object) -> int | None:
    try:
        number = int(str(text))
    except ValueError:
        return None
    return number if 0 < number < 65536 else None


def _host_of(key: str, value: str) -> tuple[str, int | None, str] | None:
    """(host, port, scheme) of a config value naming a host, or None."""
    value = value.strip()
    if _URL_KEY.search(key) and "://" in value:
        parts = urlsplit(value)
        if not parts.hostname:
            return None
        try:
            port = parts.port
        except ValueError:
            port = None
        return parts.hostname, port, parts.scheme
    if key in HOST_KEYS or key.endswith("_host"):
        return value.lower(), None, ""
    return None


def _is_legacy_host(host: str, local_names: set[str]) -> bool:
    """Whether host lives outside the cluster (not local, not already a cluster name)."""
    if host in _LOCAL or host in local_names:
        return False
    return is_ip(host) or bool(_DNS_NAME.match(host))


def targets(
    sections: dict[str, dict[str, Any]],
    backing_services: list[dict[str, str]],
    service_name: str,
) -> list[LegacyTarget]:
    """The legacy hosts of one environment's config sections, each with its cluster name.

    A backing service's section gets the kind's name (`postgres`, as locally in compose);
    other sections their own name; `legacy-` in front where that would clash.
    """
    kinds = {s.get("section"): s["kind"] for s in backing_services if s.get("section")}
    local_names = set(kinds.values())
    found: list[LegacyTarget] = []
    taken = {service_name}
    for section, values in sections.items():
        host_keys: list[tuple[str, tuple[str, int | None, str]]] = []
        for key, raw in values.items():
            place = _host_of(key, str(raw))
            if place and _is_legacy_host(place[0], local_names):
                host_keys.append((key, place))
        for key, (host, url_port, scheme) in host_keys:
            base = kinds.get(section) or k8s_slug(section)
            name = base if len(host_keys) == 1 else k8s_slug(f"{base}-{key.removesuffix('_host')}")
            if name in taken:
                name = k8s_slug(f"legacy-{name}")
            taken.add(name)
            port = url_port or _port(values.get("port"))
            if port is None and section in kinds:
                port = CATALOG[kinds[section]].port
            if port is None and scheme:
                port = 443 if scheme == "https" else 80
            found.append(LegacyTarget(name, section, key, host, port, scheme))
    return found


def _labels(target: LegacyTarget, service_name: str, team: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": target.name,
        "app.kubernetes.io/part-of": service_name,
        "app.kubernetes.io/component": COMPONENT,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "team": team,
    }


def _port_name(target: LegacyTarget) -> str:
    return k8s_slug(target.scheme or "tcp")[:15]


def objects(
    found: list[LegacyTarget], service_name: str, team: str, namespace: str
) -> list[dict[str, Any]]:
    """The Services (and EndpointSlices for IPs) that give these targets cluster names."""
    result: list[dict[str, Any]] = []
    for target in found:
        labels = _labels(target, service_name, team)
        annotations = {
            "kubestep.dev/legacy-host": f"[{target.section}] {target.key} = {target.host}"
        }
        ports = (
            [{"name": _port_name(target), "port": target.port, "protocol": "TCP"}]
            if target.port
            else []
        )
        spec: dict[str, Any]
        if target.is_ip:
            spec = {"type": "ClusterIP", "ports": ports}
        else:
            spec = {"type": "ExternalName", "externalName": target.host}
            if ports:
                spec["ports"] = ports
        meta = {"name": target.name, "namespace": namespace, "labels": labels}
        result.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {**meta, "annotations": annotations},
                "spec": spec,
            }
        )
        if target.is_ip:
            result.append(
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {
                        "name": f"{target.name}-legacy",
                        "namespace": namespace,
                        "labels": {
                            **labels,
                            "kubernetes.io/service-name": target.name,
                            # Not the EndpointSlice controller's: it leaves this slice alone.
                            "endpointslice.kubernetes.io/managed-by": "kubestep.dev",
                        },
                    },
                    "addressType": target.address_type,
                    "endpoints": [{"addresses": [target.host]}],
                    "ports": [dict(port) for port in ports],
                }
            )
    return result


def warnings(found: list[LegacyTarget]) -> list[str]:
    """What an ExternalName cannot do for HTTP(S): the Host header and TLS name stay the
    cluster name unless the client sets them."""
    return [
        f"{t.name}: {t.scheme.upper()} to {t.host} through an ExternalName sends Host: {t.name} "
        f"and checks the certificate against {t.name}; keep {t.host} in the URL's Host "
        "header (or the client's server name), or use the legacy host name directly"
        for t in found
        if t.scheme in ("http", "https") and not t.is_ip
    ]


_ASSIGNMENT = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)(?P<sep>\s*[=:]\s*)(?P<value>.*?)\s*$")
_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")


def repoint_ini(text: str, found: list[LegacyTarget], namespace_note: str) -> str:
    """The INI text with each target's host replaced by its cluster name, the legacy host
    kept in a comment above it; every other line unchanged."""
    by_place = {(t.section, t.key): t for t in found}
    lines, section = [], ""
    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            section = header["name"].strip()
        assignment = _ASSIGNMENT.match(line)
        target = by_place.get((section, assignment["key"])) if assignment else None
        if assignment and target:
            value = assignment["value"]
            new = value.replace(target.host, target.name, 1) if target.scheme else target.name
            lines.append(f"; legacy host {target.host}: the Service {target.name} {namespace_note}")
            lines.append(f"{assignment['key']}{assignment['sep']}{new}")
            continue
        lines.append(line)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")
