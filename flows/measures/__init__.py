"""Standardised measures (PHQ-9, GAD-7, PHQ-2, GAD-2): item data, prompts, parsing and scoring.

Pure: the only I/O is reading the package's own measures.yaml; nothing reads the clock.
"""

from flows.measures.item9 import Item9Answer, parse_item9
from flows.measures.model import MEASURE_IDS, Band, Item, Measure, get_measure
from flows.measures.parsing import parse_difficulty, parse_option
from flows.measures.scoring import Score, is_item9_risk, reliable_worsening, score
from flows.measures.text import band_label, item_prompt

__all__ = [
    "MEASURE_IDS",
    "Band",
    "Item",
    "Item9Answer",
    "Measure",
    "Score",
    "band_label",
    "get_measure",
    "is_item9_risk",
    "item_prompt",
    "parse_difficulty",
    "parse_item9",
    "parse_option",
    "reliable_worsening",
    "score",
]
