"""Shared by the bench scripts: a synthetic roster and a timer."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.portal.generated import roster_csv as big_roster  # noqa: E402,F401


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median and 95th percentile of fn's wall time in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]
