"""Localized texts of the safety and coaching layer, kept as YAML content beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

CONTENT = Path(__file__).with_name("content")
FALLBACK = "en"


@lru_cache(maxsize=8)
def _table(locale: str) -> dict[str, str]:
    path = CONTENT / f"{locale}.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def text(key: str, locale: str, **values: object) -> str:
    """The text `key` in `locale` (falling back to English), with `{name}` fields filled in."""
    language = locale.replace("-", "_").split("_")[0].lower()
    template = _table(language).get(key) or _table(FALLBACK)[key]
    return template.format(**values) if values else template
