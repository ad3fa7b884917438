"""Names derived from legacy ones: Kubernetes names and environment variable names."""

import re


def dns_label(name: str) -> str:
    """A DNS-1123 label for name ('Legacy_App' -> 'legacy-app'), or 'service' if none is left."""
    label = re.sub(r"[^a-z0-9]+", "-", name.lower())
    label = re.sub(r"^[^a-z]+", "", label)[:63].rstrip("-")
    return label or "service"


def env_name(section: str, key: str) -> str:
    """The variable that overrides INI key `key` of `section`: SECTION_KEY, upper-cased.

    Characters other than letters and digits become '_'; a leading digit gets a '_' prefix so
    the result is always a valid variable name.
    """
    name = re.sub(r"[^A-Za-z0-9]", "_", f"{section}_{key}").upper()
    return f"_{name}" if name[:1].isdigit() else name
