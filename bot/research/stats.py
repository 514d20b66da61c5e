"""Running means with a 95% confidence interval (Student's t), accumulated one value at a time
so the dashboard never holds every score at once."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Two-sided 95% critical values of Student's t for 1-30 degrees of freedom; beyond, the normal
# 1.96 is within 0.5% of t.
T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z975 = 1.96


def t975(df: int) -> float:
    return T975[df - 1] if df <= len(T975) else Z975


@dataclass
class Running:
    """Count, mean and sum of squared deviations (Welford), updated per value."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)

    def ci95(self) -> tuple[float, float] | None:
        """The 95% interval of the mean; None with fewer than two values."""
        if self.n < 2:
            return None
        half = t975(self.n - 1) * math.sqrt(self.m2 / (self.n - 1)) / math.sqrt(self.n)
        return self.mean - half, self.mean + half
