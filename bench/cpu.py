"""What the machine's processes used while a benchmark measured: clock ticks from /proc."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuSample:
    """Clock ticks used so far by the machine and by each watched process group."""

    machine_busy: int
    # Ticks the hypervisor gave another guest while this one had work (steal): not the
    # machine's processes, though they count in machine_busy.
    stolen: int
    groups: dict[str, int]


def cpu_sample(groups: dict[str, int]) -> CpuSample | None:
    """Ticks from /proc (Linux); None where there is no /proc. `groups` names process group ids
    (this process is counted by its own pid)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    ticks = dict.fromkeys(groups, 0)
    by_group = {pgid: name for name, pgid in groups.items()}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # Fields after the command name: state, ppid, pgrp, ... utime (12th), stime (13th).
        fields = text[text.rindex(")") + 2 :].split()
        pid = int(stat.parent.name)
        name = "load generator" if pid == os.getpid() else by_group.get(int(fields[2]))
        if name in ticks:
            ticks[name] += int(fields[11]) + int(fields[12])
    return CpuSample(
        machine_busy=sum(values) - values[3] - values[4], stolen=values[7], groups=ticks
    )


def cpu_shares(before: CpuSample | None, after: CpuSample | None, seconds: float) -> dict:
    """Cores used between two samples by each group and by the rest of the machine, and the
    cores' time the host gave to other guests (steal) meanwhile."""
    if before is None or after is None or seconds <= 0:
        return {}
    hertz = os.sysconf("SC_CLK_TCK")
    shares = {
        name: (after.groups[name] - before.groups[name]) / hertz / seconds for name in after.groups
    }
    machine = (after.machine_busy - before.machine_busy) / hertz / seconds
    stolen = (after.stolen - before.stolen) / hertz / seconds
    shares["other processes"] = max(0.0, machine - stolen - sum(shares.values()))
    shares["stolen by the host"] = stolen
    return {name: round(share, 2) for name, share in shares.items()}


# Ten million additions at a module's level (names looked up in a dict, as in a one-line
# `python -c`, the form bench/README.md quotes): under half a second on a quiet core of this
# project's CI machines, and up to four times that in their slow spells.
SPEED_LOOP = compile(
    "total = 0\nfor number in range(10_000_000):\n    total += number\n", "<speed>", "exec"
)


def python_loop_seconds() -> float:
    """Seconds this process takes for SPEED_LOOP: how fast the machine runs Python code right
    now, which a shared host changes from hour to hour."""
    started = time.perf_counter()
    exec(SPEED_LOOP, {})
    return time.perf_counter() - started
