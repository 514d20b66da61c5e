"""Every Spanish text fits in at most 3 SMS segments once rendered.

Spanish needs accents, so it goes out in UCS-2 (67 characters a part): 3 parts are 201. Texts are
rendered with a stand-in for every variable and every text included with `text(key)` (10 letters,
the length of a typical name, short answer or day; lists are empty), and counted by the project's
own segment counter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import ChainableUndefined
from jinja2.sandbox import SandboxedEnvironment

from bot.channels.sms_text import count_segments, normalize_gsm

ES = Path(__file__).parents[2] / "flows" / "content" / "es"
MAX_SEGMENTS = 3


class _Sample(ChainableUndefined):
    """Any variable: prints as a 10-letter word, counts as an empty list or zero."""

    def __str__(self) -> str:
        return "Abcdefghij"

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    # jinja2 annotates Undefined's operators as its raising helper (-> Never), so a subclass
    # that answers them can only be flagged; answering them is this stand-in's whole point.
    def __int__(self) -> int:  # type: ignore[override]
        return 0

    def _same(self, *_: Any) -> _Sample:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same  # type: ignore[assignment]
    __floordiv__ = __truediv__ = __mod__ = __neg__ = _same  # type: ignore[assignment]


class _Facts(dict[str, Any]):
    """`patient` and `site`: every field a stand-in; `.get` finds nothing (the text's fallback)."""

    def __missing__(self, key: str) -> _Sample:
        return _Sample(name=key)


_ENV = SandboxedEnvironment(undefined=_Sample)


# `text(key)` includes another text of the flow (the engine renders it); those are short labels.
def _included(key: str) -> str:
    return str(_Sample(name=str(key)))


def _texts() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(ES.glob("*.yaml")):
        for key, text in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            found.append((path.stem, str(key), str(text)))
    return found


TEXTS = _texts()


def test_there_are_spanish_texts_to_check() -> None:
    assert len(TEXTS) > 200


@pytest.mark.parametrize(
    ("flow", "key", "text"), TEXTS, ids=[f"{flow}.{key}" for flow, key, _ in TEXTS]
)
def test_spanish_text_fits_in_three_ucs2_segments(flow: str, key: str, text: str) -> None:
    rendered = (
        _ENV.from_string(text).render(patient=_Facts(), site=_Facts(), text=_included).strip()
    )
    _, segments = count_segments(normalize_gsm(rendered))
    assert segments <= MAX_SEGMENTS, f"{flow}.{key} needs {segments} segments: {rendered!r}"
