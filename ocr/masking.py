"""Masking of sensitive values (ID, passport, card and licence numbers) wherever they are shown."""

from __future__ import annotations


def mask_sensitive(value: str | None) -> str | None:
    """Keep the first 3 and last 2 characters, star the rest; 5 characters or fewer: all stars."""
    if value is None:
        return None
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]
