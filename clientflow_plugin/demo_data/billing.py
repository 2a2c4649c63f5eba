"""Demo billing data."""

from __future__ import annotations


def seed(workspace, rng) -> None:
    return None
