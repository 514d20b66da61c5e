"""The scheduler's own localized texts (flows/content/<locale>/scheduling.yaml)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from flows.texts import render

CONTENT = Path(__file__).parents[2] / "flows" / "content"


@functools.cache
def _load(locale: str) -> dict[str, str]:
    path = CONTENT / locale / "scheduling.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def text(key: str, locale: str, **variables: Any) -> str:
    """The text `key` in `locale` (English when missing there), rendered with `variables`."""
    for candidate in (locale, "en"):
        source = _load(candidate).get(key)
        if source is not None:
            return render(source, variables)
    raise KeyError(f"no scheduling text {key!r}")
