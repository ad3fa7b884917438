"""Invoke collections, one module per concern; the root tasks.py only composes them."""
