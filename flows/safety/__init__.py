"""Pure risk detection and crisis resources for Tandem's safety layer."""

from flows.safety.detect import RiskAssessment, RiskSignal, assess
from flows.safety.resources import CrisisResources, crisis_resources, load_resource_table

__all__ = [
    "CrisisResources",
    "RiskAssessment",
    "RiskSignal",
    "assess",
    "crisis_resources",
    "load_resource_table",
]
