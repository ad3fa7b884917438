"""Where a backing service is, as the app itself finds it: the readiness check of a database
the app reaches through DATABASE_URL must probe the host of DATABASE_URL, not a guess.

Each service names the variables the code reads its address from (found by kubestep's
inventory): the first one set wins (a URL, or a host and a port), then the INI section's
host and port, then the code's default, then the service's own name, which is its compose
service and its Kubernetes Service. A value that names no host is reported, never probed as
"" (which fails with "Cannot assign requested address" and says nothing).
"""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AddressVariable:
    """A variable the code reads part of a backing service's address from."""

    name: str
    part: str  # "url", "host" or "port"
    default: str = ""  # the code's default, what the app uses while the variable is unset


@dataclass(frozen=True)
class Backing:
    """A backing service the app reaches, and the places its address may come from."""

    kind: str  # the check's name, and the compose and Kubernetes service name
    port: int  # the usual port of the kind
    section: str = ""  # an INI section with host and port keys
    variables: Sequence[AddressVariable] = ()


@dataclass(frozen=True)
class Endpoint:
    """A TCP host and port, or a unix socket path."""

    host: str = ""
    port: int = 0
    path: str = ""

    def __str__(self) -> str:
        if self.path:
            return f"unix:{self.path}"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def connect(self, timeout: float) -> None:
        if self.path:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
                unix.settimeout(timeout)
                unix.connect(self.path)
            return
        with socket.create_connection((self.host, self.port), timeout=timeout):
            pass


@dataclass(frozen=True)
class Resolved:
    """Where to probe a service, and which setting said so; problem when it says nowhere."""

    endpoints: tuple[Endpoint, ...]
    origin: str
    problem: str = ""


def _socket(kind: str, path: str, port: int) -> Endpoint:
    """libpq takes a directory and adds the socket's name; other clients take the file."""
    if kind == "postgres" and not path.endswith(f".s.PGSQL.{port}"):
        return Endpoint(path=f"{path.rstrip('/')}/.s.PGSQL.{port}")
    return Endpoint(path=path)


def _host_port(item: str, default_port: int) -> Endpoint:
    """`host`, `host:port` or `[v6]:port`; ValueError names a port that is not a number."""
    split = urllib.parse.urlsplit(f"//{item}")
    try:
        port = split.port
    except ValueError:
        raise ValueError(f"has a port that is not a number ({item!r})") from None
    return Endpoint(host=split.hostname or "", port=port or default_port)


def url_endpoints(url: str, kind: str, default_port: int) -> tuple[Endpoint, ...]:
    """Every host a URL names (libpq and redis-py accept `h1:5432,h2:5433`) or its unix
    socket (`redis+unix:///run/redis.sock`, `postgresql:///app?host=/run/postgresql`);
    ValueError says why none."""
    parts = urllib.parse.urlsplit(url.strip())
    query = urllib.parse.parse_qs(parts.query)
    if parts.scheme.endswith("+srv"):
        raise ValueError(
            "is a DNS SRV URL, which a TCP check cannot follow: leave the check out of "
            "readiness with READY_REQUIRES"
        )
    if "unix" in parts.scheme:
        if not parts.path:
            raise ValueError("a unix socket URL without a path")
        return (Endpoint(path=urllib.parse.unquote(parts.path)),)
    hosts = parts.netloc.rpartition("@")[2]
    found = []
    for item in filter(None, hosts.split(",")):
        item = urllib.parse.unquote(item)
        if item.startswith("/"):  # a percent-encoded socket directory
            found.append(_socket(kind, item, default_port))
        else:
            found.append(_host_port(item, default_port))
    if not found:
        query_host = (query.get("host") or query.get("unix_socket") or [""])[0]
        port = _port((query.get("port") or [str(default_port)])[0], "its port")
        if query_host.startswith("/"):
            found.append(_socket(kind, query_host, port))
        elif query_host:
            found.append(_host_port(query_host, port))
    if not found or any(not e.host and not e.path for e in found):
        raise ValueError("names no host")
    return tuple(found)


def _port(value: str, name: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ValueError(f"{name}={value!r} is not a port number")
    return port


def _first(
    backing: Backing, part: str, environ: Mapping[str, str], defaults: bool
) -> tuple[str, str] | None:
    """(name, value) of the first variable of part that is set (or has a default)."""
    for variable in backing.variables:
        if variable.part != part:
            continue
        value = (variable.default if defaults else environ.get(variable.name, "")).strip()
        if value:
            return variable.name if not defaults else f"{variable.name} (its default)", value
    return None


def _from_host(kind: str, host: str, port: int) -> tuple[Endpoint, ...]:
    if host.startswith("/"):
        return (_socket(kind, host, port),)
    if host.count(":") == 1:  # REDIS_HOST=cache:6380
        return (_host_port(host, port),)
    return (Endpoint(host=host, port=port),)


def resolve(
    backing: Backing, sections: Mapping[str, Mapping[str, str]], environ: Mapping[str, str]
) -> Resolved:
    """The address of a backing service, in the order the module docstring gives."""
    try:
        return _resolve(backing, sections, environ)
    except ValueError as error:
        return Resolved((), backing.kind, str(error))


def _resolve(
    backing: Backing, sections: Mapping[str, Mapping[str, str]], environ: Mapping[str, str]
) -> Resolved:
    kind, port = backing.kind, backing.port
    port_setting = _first(backing, "port", environ, False) or _first(backing, "port", environ, True)
    values = sections.get(backing.section, {}) if backing.section else {}
    if port_setting:
        port = _port(port_setting[1], port_setting[0])
    elif values.get("port", "").strip():
        port = _port(values["port"].strip(), f"[{backing.section}] port")
    for defaults in (False, True):
        url = _first(backing, "url", environ, defaults)
        if url:
            try:
                return Resolved(url_endpoints(url[1], kind, port), url[0])
            except ValueError as error:
                return Resolved((), url[0], f"{url[0]} {error}")
        host = _first(backing, "host", environ, defaults)
        if host:
            origin = host[0] + (f", {port_setting[0]}" if port_setting else "")
            return Resolved(_from_host(kind, host[1], port), origin)
        if not defaults and values.get("host", "").strip():
            return Resolved(_from_host(kind, values["host"].strip(), port), f"[{backing.section}]")
    return Resolved((Endpoint(host=kind, port=port),), "the service name")
