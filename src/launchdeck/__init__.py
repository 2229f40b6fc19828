"""Launchdeck: open-source Enterprise Release Management."""

__version__ = "0.1.0"
