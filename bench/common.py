"""Shared by the bench scripts: a synthetic roster and a timer."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.community import roster as rules  # noqa: E402


def big_roster(n: int, phone_base: int = 13000000000) -> bytes:
    """A roster CSV of n homes: 120 per building, 24 per unit, 4 per floor, one owner each."""
    rows = []
    for i in range(n):
        building, rest = divmod(i, 120)
        unit, rest = divmod(rest, 24)
        floor, side = divmod(rest, 4)
        rows.append([str(building + 1), str(unit + 1), f"{floor + 1}0{side + 1}", floor + 1,
                     f"{40 + (i * 37) % 80}.{i % 100:02d}", f"业主{i}", str(phone_base + i),
                     "", "person", 1940 + i % 60, "", ""])
    return rules.write_csv(rows)


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median and 95th percentile of fn's wall time in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]
