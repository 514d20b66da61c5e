"""Chat wording for measure items and bands."""

from __future__ import annotations

from flows.measures.model import catalog, get_item, get_measure, resolve_locale


def item_prompt(measure_id: str, number: int, locale: str, *, lead_in: bool | None = None) -> str:
    """One chat message asking item `number` of a measure, with its numbered 0-3 options.

    The first item is preceded by the measure's lead-in (`lead_in` True or False overrides that:
    a measure whose first items were carried over from a screener starts later). Scored items
    use the frequency options; the PHQ-9's unscored tenth question uses the difficulty options.
    Unknown locales fall back to English; regional tags such as "es-MX" use their language.
    """
    measure = get_measure(measure_id)
    item = get_item(measure, number)
    loc = resolve_locale(locale)
    cat = catalog()
    lines: list[str] = []
    if item is measure.items[0] if lead_in is None else lead_in:
        lines.append(cat.lead_ins[measure.id][loc])
    if item.scored:
        lines.append(cat.item_question[loc].format(text=item.texts[loc]))
        labels = cat.options[loc]
    else:
        # The difficulty question is already phrased as a question.
        lines.append(item.texts[loc])
        labels = cat.difficulty_options[loc]
    lines.extend(f"{value} {label}" for value, label in enumerate(labels))
    return "\n".join(lines)


def band_label(measure_id: str, band: str, locale: str) -> str:
    """Human words for one of the measure's band ids (e.g. "moderately_severe") in a locale."""
    measure = get_measure(measure_id)
    known = [b.label for b in measure.bands]
    if band not in known:
        raise ValueError(f"{measure_id} has no band {band!r}; bands: {', '.join(known)}")
    return catalog().band_labels[resolve_locale(locale)][band]
