"""What a patient is told about their own progress after finishing a PHQ-9 or GAD-7. Pure.

The first time (no earlier measure in this episode): the total and its band in plain words. Later:
the total compared with the baseline ("lower than when you started") and, from the third time
on, with the time before, then one closing line. Words are scripted texts in
`flows/content/<locale>/common.yaml` (`measure_progress_*`); this module only picks the keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.measures.model import get_measure
from flows.measures.outcomes import Outcome, direction

PREFIX = "common.measure_progress_"


@dataclass(frozen=True)
class Progress:
    key: str  # the message's text key
    numbers: dict[str, int]  # total, max, baseline, previous
    fragments: dict[str, str] = field(default_factory=dict)  # placeholder -> text key


def progress(outcome: Outcome, band: str) -> Progress:
    """The message for `outcome`, whose latest administration is the one just finished."""
    numbers = {"total": outcome.latest.total, "max": get_measure(outcome.measure).max_total}
    if outcome.count == 1:
        return Progress(f"{PREFIX}first", numbers, {"words": f"{PREFIX}{outcome.measure}_{band}"})
    numbers["baseline"] = outcome.baseline.total
    since_start = direction(outcome.baseline.total, outcome.latest.total)
    fragments = {
        "since_start": f"{PREFIX}start_{since_start}",
        "closing": f"{PREFIX}close_{since_start}",
    }
    if outcome.count == 2 or outcome.previous is None:
        return Progress(f"{PREFIX}later", numbers, fragments)
    numbers["previous"] = outcome.previous.total
    since_last = direction(outcome.previous.total, outcome.latest.total)
    fragments["since_last"] = f"{PREFIX}last_{since_last}"
    return Progress(f"{PREFIX}later_both", numbers, fragments)


def text_keys(measure_id: str) -> list[str]:
    """Every text key `progress` may pick for this measure (for `flows check`)."""
    keys = [f"{PREFIX}{k}" for k in ("first", "later", "later_both")]
    keys += [f"{PREFIX}{measure_id}_{band.label}" for band in get_measure(measure_id).bands]
    for part in ("start", "last", "close"):
        keys += [f"{PREFIX}{part}_{word}" for word in ("lower", "same", "higher")]
    return keys
