"""Inventory: read a legacy repo, never write to it, and record every fact with its source.

The first step of a migration is getting back the knowledge the legacy setup holds: how the
service starts, what it depends on, how it is configured, deployed and monitored.
"""

from kubestep.inventory.collect import collect
from kubestep.inventory.model import Inventory
from kubestep.inventory.storage import load, write
from kubestep.inventory.summary import summary

__all__ = ["Inventory", "collect", "load", "summary", "write"]
