"""Pure risk detection and crisis resources for Tandem's safety layer."""

from flows.safety.detect import RiskAssessment, RiskSignal, assess
from flows.safety.resources import CrisisResources, crisis_resources, load_resource_table


def preload() -> None:
    """Read the built-in lexicons, model and crisis-line table now: a service calls this as it
    starts, so a broken file fails the start and the first disclosure waits on no file."""
    assess("")
    crisis_resources("en")


__all__ = [
    "CrisisResources",
    "RiskAssessment",
    "RiskSignal",
    "assess",
    "crisis_resources",
    "load_resource_table",
    "preload",
]
