"""legacy-app: the order-tracking API of the shop back office."""

__version__ = "1.4.2"
