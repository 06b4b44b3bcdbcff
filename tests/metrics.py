"""Reading the metrics of this process, as tests compare them before and after."""

from __future__ import annotations

from prometheus_client import REGISTRY


def loop_write_count(outcome: str) -> float:
    """quickvault_sqlite_loop_writes_total{outcome} of this process."""
    return (
        REGISTRY.get_sample_value("quickvault_sqlite_loop_writes_total", {"outcome": outcome})
        or 0.0
    )
