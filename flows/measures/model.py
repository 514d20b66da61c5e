"""Data model and loader for the standardised measures (PHQ-9, GAD-7, PHQ-2, GAD-2)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

MEASURE_IDS: tuple[str, ...] = ("phq9", "gad7", "phq2", "gad2")

# Each scored item is answered 0-3.
MIN_OPTION = 0
MAX_OPTION = 3

_DATA_FILE = "measures.yaml"


@dataclass(frozen=True)
class Item:
    number: int
    key: str
    scored: bool
    texts: Mapping[str, str]


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Measure:
    id: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    max_total: int
    positive_at: int | None


@dataclass(frozen=True)
class Worsening:
    min_increase: int
    alert_at: int


@dataclass(frozen=True)
class Catalog:
    locales: tuple[str, ...]
    default_locale: str
    options: Mapping[str, tuple[str, ...]]
    difficulty_options: Mapping[str, tuple[str, ...]]
    item_question: Mapping[str, str]
    band_labels: Mapping[str, Mapping[str, str]]
    measures: Mapping[str, Measure]
    lead_ins: Mapping[str, Mapping[str, str]]
    risk_items: Mapping[str, int]
    worsening: Mapping[str, Worsening]


class MeasureDataError(ValueError):
    """The packaged measure data is malformed."""


def _map(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MeasureDataError(f"{where}: expected a mapping")
    return {str(k): v for k, v in value.items()}


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MeasureDataError(f"{where}: expected an integer")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MeasureDataError(f"{where}: expected a non-empty string")
    return value


def _texts(value: Any, locales: tuple[str, ...], where: str) -> Mapping[str, str]:
    raw = _map(value, where)
    if set(raw) != set(locales):
        raise MeasureDataError(f"{where}: locales {sorted(raw)} != {sorted(locales)}")
    return MappingProxyType({loc: _str(raw[loc], f"{where}.{loc}") for loc in locales})


def _four(value: Any, locales: tuple[str, ...], where: str) -> Mapping[str, tuple[str, ...]]:
    raw = _map(value, where)
    out: dict[str, tuple[str, ...]] = {}
    for loc in locales:
        labels = raw.get(loc)
        if not isinstance(labels, list) or len(labels) != MAX_OPTION - MIN_OPTION + 1:
            raise MeasureDataError(f"{where}.{loc}: expected {MAX_OPTION + 1} labels")
        out[loc] = tuple(_str(s, f"{where}.{loc}") for s in labels)
    return MappingProxyType(out)


def _bands(value: Any, max_total: int, where: str) -> tuple[Band, ...]:
    if not isinstance(value, list) or not value:
        raise MeasureDataError(f"{where}: expected a list of bands")
    bands: list[Band] = []
    expected_low = 0
    # Bands must tile 0..max_total without gaps or overlaps so every total has exactly one band.
    for i, raw in enumerate(value):
        b = _map(raw, f"{where}[{i}]")
        band = Band(
            low=_int(b.get("low"), f"{where}[{i}].low"),
            high=_int(b.get("high"), f"{where}[{i}].high"),
            label=_str(b.get("label"), f"{where}[{i}].label"),
        )
        if band.low != expected_low or band.high < band.low:
            raise MeasureDataError(f"{where}[{i}]: bands must be contiguous from 0")
        bands.append(band)
        expected_low = band.high + 1
    if expected_low != max_total + 1:
        raise MeasureDataError(f"{where}: bands end at {expected_low - 1}, not {max_total}")
    return tuple(bands)


def _items(value: Any, locales: tuple[str, ...], where: str) -> tuple[Item, ...]:
    if not isinstance(value, list) or not value:
        raise MeasureDataError(f"{where}: expected a list of items")
    items: list[Item] = []
    for i, raw in enumerate(value):
        d = _map(raw, f"{where}[{i}]")
        scored = d.get("scored", True)
        if not isinstance(scored, bool):
            raise MeasureDataError(f"{where}[{i}].scored: expected a boolean")
        number = _int(d.get("number"), f"{where}[{i}].number")
        if number != i + 1:
            raise MeasureDataError(f"{where}[{i}]: items must be numbered 1, 2, 3, ...")
        key = _str(d.get("key"), f"{where}[{i}].key")
        items.append(Item(number, key, scored, _texts(d.get("texts"), locales, f"{where}.{key}")))
    return tuple(items)


def _build(doc: dict[str, Any]) -> Catalog:
    raw_locales = doc.get("locales")
    if not isinstance(raw_locales, list):
        raise MeasureDataError("locales: expected a list")
    locales = tuple(_str(loc, "locales") for loc in raw_locales)
    default_locale = _str(doc.get("default_locale"), "default_locale")
    if default_locale not in locales:
        raise MeasureDataError("default_locale must be one of locales")

    raw_labels = _map(doc.get("band_labels"), "band_labels")
    band_labels = {
        loc: MappingProxyType(
            {k: _str(v, f"band_labels.{loc}") for k, v in _map(raw_labels.get(loc), loc).items()}
        )
        for loc in locales
    }

    raw_measures = _map(doc.get("measures"), "measures")
    if tuple(raw_measures) != MEASURE_IDS:
        raise MeasureDataError(f"measures: expected {MEASURE_IDS}, got {tuple(raw_measures)}")

    measures: dict[str, Measure] = {}
    lead_ins: dict[str, Mapping[str, str]] = {}
    risk_items: dict[str, int] = {}
    worsening: dict[str, Worsening] = {}
    for mid, raw in raw_measures.items():
        d = _map(raw, mid)
        parent_id = d.get("from")
        if parent_id is None:
            items = _items(d.get("items"), locales, f"{mid}.items")
            lead_ins[mid] = _texts(d.get("lead_in"), locales, f"{mid}.lead_in")
        else:
            # Screeners share the parent's Item objects (and lead-in) rather than copying them.
            parent = measures.get(str(parent_id))
            numbers = d.get("items")
            if parent is None or not isinstance(numbers, list):
                raise MeasureDataError(f"{mid}: 'from' must name an earlier measure, with items")
            by_number = {item.number: item for item in parent.items}
            items = tuple(by_number[_int(n, f"{mid}.items")] for n in numbers)
            lead_ins[mid] = lead_ins[parent.id]
        max_total = MAX_OPTION * sum(1 for item in items if item.scored)
        bands = _bands(d.get("bands"), max_total, f"{mid}.bands")
        for band in bands:
            if any(band.label not in band_labels[loc] for loc in locales):
                raise MeasureDataError(f"{mid}: band label {band.label!r} has no words")
        positive_at = d.get("positive_at")
        measures[mid] = Measure(
            id=mid,
            items=items,
            bands=bands,
            max_total=max_total,
            positive_at=None if positive_at is None else _int(positive_at, f"{mid}.positive_at"),
        )
        if "risk_item" in d:
            risk_items[mid] = _int(d["risk_item"], f"{mid}.risk_item")
        if "worsening" in d:
            w = _map(d["worsening"], f"{mid}.worsening")
            worsening[mid] = Worsening(
                _int(w.get("min_increase"), f"{mid}.worsening"),
                _int(w.get("alert_at"), f"{mid}.worsening"),
            )

    return Catalog(
        locales=locales,
        default_locale=default_locale,
        options=_four(doc.get("options"), locales, "options"),
        difficulty_options=_four(doc.get("difficulty_options"), locales, "difficulty_options"),
        item_question=_texts(doc.get("item_question"), locales, "item_question"),
        band_labels=MappingProxyType(band_labels),
        measures=MappingProxyType(measures),
        lead_ins=MappingProxyType(lead_ins),
        risk_items=MappingProxyType(risk_items),
        worsening=MappingProxyType(worsening),
    )


def load_catalog(text: str) -> Catalog:
    """Parse and validate measure data in the packaged YAML format."""
    return _build(_map(yaml.safe_load(text), "document"))


@functools.cache
def catalog() -> Catalog:
    """The packaged measure data, loaded once."""
    text = resources.files(__package__).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return load_catalog(text)


def get_measure(measure_id: str) -> Measure:
    """Return the measure with this id; ValueError naming the known ids if there is none."""
    measure = catalog().measures.get(measure_id)
    if measure is None:
        raise ValueError(f"unknown measure id {measure_id!r}; known: {', '.join(MEASURE_IDS)}")
    return measure


def get_item(measure: Measure, number: int) -> Item:
    for item in measure.items:
        if item.number == number:
            return item
    numbers = ", ".join(str(item.number) for item in measure.items)
    raise ValueError(f"{measure.id} has no item {number!r}; items: {numbers}")


def resolve_locale(locale: str) -> str:
    """Map 'es', 'es-MX', 'ES_us' to a packaged locale; anything unknown to the default."""
    cat = catalog()
    language = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in cat.locales else cat.default_locale
