from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.limits import TELEGRAM_MAX_CHARS
from bot.channels.sms_text import (
    SMS_MAX_CHARS,
    count_segments,
    is_gsm7,
    normalize_gsm,
    split_text,
    utf16_len,
)

EXTENSION_CHARS = "€[]{}~^\\|"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("It‘s “fine”", 'It\'s "fine"'),
        ("don’t", "don't"),
        ("„low“ and «guillemets»", '"low" and "guillemets"'),
        ("9–5 — really", "9-5 - really"),
        ("minus −3, hyphen‐ish", "minus -3, hyphen-ish"),
        ("wait…", "wait..."),
        ("a\u00a0b\u2009c\u202fd\u3000e\tf", "a b c d e f"),
        ("• one\n◦ two", "- one\n- two"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("line\u2028break", "line\nbreak"),
        ("`tick´", "'tick'"),
    ],
)
def test_normalize_replaces_look_alikes(raw: str, expected: str) -> None:
    assert normalize_gsm(raw) == expected
    assert is_gsm7(normalize_gsm(raw))


@pytest.mark.parametrize(
    "text",
    [
        "Hola, ¿cómo estás?",  # ó is not GSM-7 and has no replacement
        "مرحبا، كيف حالك؟",
        "שלום עולם",
        "Ça va 😀👍🏽",
        "👩\u200d👩\u200d👧 family",  # ZWJ sequence must stay intact
        "خوب\u200cام",  # Persian zero-width non-joiner is meaningful
        "Zoë and Łukasz",
        "plain ascii stays",
    ],
)
def test_normalize_leaves_other_characters(text: str) -> None:
    assert normalize_gsm(text) == text


def test_normalize_is_idempotent() -> None:
    once = normalize_gsm("“Hi”… — it’s\u00a0me • ok")
    assert normalize_gsm(once) == once


@pytest.mark.parametrize(
    ("text", "gsm"),
    [
        ("", True),
        ("Hello @ £5 ¥ èéùìò Ç Øø Åå Δ_ΦΓΛΩΠΨΣΘΞ Ææß É ¤ ¡¿ ÄÖÑÜ§ äöñüà\r\n", True),
        (EXTENSION_CHARS, True),
        ("ç", False),  # GSM-7 has capital Ç only
        ("á", False),
        ("`", False),
        ("’", False),
        ("😀", False),
        ("مرحبا", False),
    ],
)
def test_is_gsm7(text: str, gsm: bool) -> None:
    assert is_gsm7(text) is gsm


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 1)),
        ("a", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("a" * 459, ("GSM-7", 3)),
        ("a" * 460, ("GSM-7", 4)),
        ("a" * 1530, ("GSM-7", 10)),
        ("a" * 1531, ("GSM-7", 11)),
        # Extension characters cost two septets.
        ("€" * 80, ("GSM-7", 1)),
        ("€" * 81, ("GSM-7", 2)),
        ("a" * 159 + "[", ("GSM-7", 2)),
        ("a" * 158 + "]", ("GSM-7", 1)),
        # 152 septets + an escape pair: the pair is not cut across parts, so 3 parts not 2.
        ("a" * 152 + "{" + "a" * 152, ("GSM-7", 3)),
        ("a" * 151 + "}" + "a" * 153, ("GSM-7", 2)),
        # One non-GSM character turns the whole message into UCS-2.
        ("á" * 70, ("UCS-2", 1)),
        ("á" * 71, ("UCS-2", 2)),
        ("a" * 69 + "á", ("UCS-2", 1)),
        ("a" * 70 + "á", ("UCS-2", 2)),
        ("á" * 134, ("UCS-2", 2)),
        ("á" * 135, ("UCS-2", 3)),
        ("á" * 201, ("UCS-2", 3)),
        ("á" * 202, ("UCS-2", 4)),
        # Emoji are surrogate pairs: two code units each.
        ("😀" * 35, ("UCS-2", 1)),
        ("😀" * 36, ("UCS-2", 2)),
        ("😀" * 66, ("UCS-2", 2)),
        # 66 units + a pair that would straddle the 67-unit boundary.
        ("a" * 66 + "😀" + "a" * 66, ("UCS-2", 3)),
        ("a" * 65 + "😀" + "a" * 67, ("UCS-2", 2)),
        ("مرحبا" * 14, ("UCS-2", 1)),
        ("مرحبا" * 14 + "!", ("UCS-2", 2)),
    ],
)
def test_count_segments(text: str, expected: tuple[str, int]) -> None:
    assert count_segments(text) == expected


@pytest.mark.parametrize("ch", list(EXTENSION_CHARS))
def test_each_extension_char_costs_two_septets(ch: str) -> None:
    assert count_segments(ch * 80) == ("GSM-7", 1)
    assert count_segments(ch * 80 + "a") == ("GSM-7", 2)


def test_normalizing_smart_punctuation_saves_segments() -> None:
    text = "It’s okay — you’re doing well… " * 3
    assert count_segments(text)[0] == "UCS-2"
    assert count_segments(normalize_gsm(text)) == ("GSM-7", 1)


def test_utf16_len() -> None:
    assert utf16_len("") == 0
    assert utf16_len("abc") == 3
    assert utf16_len("😀a") == 3
    assert utf16_len("مرحبا") == 5


def test_limits() -> None:
    assert SMS_MAX_CHARS == 1600
    assert TELEGRAM_MAX_CHARS == 4096


def assert_lossless(text: str, chunks: list[str]) -> None:
    """The chunks occur in `text` in order, separated only by whitespace."""
    pos = 0
    for chunk in chunks:
        while pos < len(text) and text[pos].isspace() and not text.startswith(chunk, pos):
            pos += 1
        assert text.startswith(chunk, pos), (chunk, text[pos : pos + 40])
        pos += len(chunk)
    assert text[pos:].strip() == ""


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, ["short"]),
        ("  padded  ", 10, ["  padded  "]),
        ("", 10, []),
        (" \n ", 10, []),
        ("One. Two. Three.", 10, ["One. Two.", "Three."]),
        ("Hi! Are you ok? Yes.", 8, ["Hi!", "Are you", "ok? Yes."]),
        ("first line\nsecond line", 15, ["first line", "second line"]),
        ("word " * 5, 11, ["word word", "word word", "word"]),
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
        ("See https://example.org/a-very-long-path ok", 12, None),
        ("He said “Stop.” Then left.", 18, ["He said “Stop.”", "Then left."]),
        ("Sentence one is here. and then a long tail", 30, None),
    ],
)
def test_split_examples(text: str, limit: int, expected: list[str] | None) -> None:
    chunks = split_text(text, limit)
    if expected is not None:
        assert chunks == expected
    assert all(0 < len(c) <= limit for c in chunks)
    assert_lossless(text, chunks)


def test_split_prefers_sentence_over_space() -> None:
    text = "I hear you. It sounds like a hard week"
    assert split_text(text, 30) == ["I hear you.", "It sounds like a hard week"]


def test_split_ignores_boundary_too_early_in_chunk() -> None:
    # A sentence end at 3 characters would leave a tiny message; the later space wins.
    text = "Ok. then we talk about the plan for tomorrow morning"
    chunks = split_text(text, 40)
    assert chunks[0] == "Ok. then we talk about the plan for"


def test_split_rtl_text() -> None:
    sentence = "مرحبا، كيف حالك اليوم؟ "
    text = sentence * 20
    chunks = split_text(text, 50)
    assert all(c.endswith("؟") for c in chunks)
    assert all(len(c) <= 50 for c in chunks)
    assert_lossless(text, chunks)


def test_hard_cut_keeps_emoji_sequences_and_accents_whole() -> None:
    family = "👩\u200d👩\u200d👧"
    text = "x" * 8 + family + "y" * 5
    chunks = split_text(text, 10)
    assert all(len(c) <= 10 for c in chunks)
    assert "".join(chunks) == text
    assert any(family in c for c in chunks)
    accented = "e\u0301" * 12  # e + combining acute accent
    chunks = split_text(accented, 5)
    assert all(not c.startswith("\u0301") for c in chunks)
    assert "".join(chunks) == accented


def test_split_utf16_counts_emoji_as_two() -> None:
    text = "😀" * 10
    chunks = split_text(text, 6, utf16=True)
    assert chunks == ["😀" * 3, "😀" * 3, "😀" * 3, "😀"]
    assert all(utf16_len(c) <= 6 for c in chunks)


def test_split_rejects_useless_limits() -> None:
    with pytest.raises(ValueError):
        split_text("abc", 0)
    with pytest.raises(ValueError):
        split_text("abc", 1, utf16=True)


def test_split_5000_chars_for_sms_and_telegram() -> None:
    sentence = "Thanks for checking in today — how did the breathing exercise go? "
    text = (sentence * 80)[:5000]
    for limit in (SMS_MAX_CHARS, TELEGRAM_MAX_CHARS, 160):
        chunks = split_text(text, limit)
        assert len(chunks) >= math.ceil(len(text.strip()) / limit)
        assert all(0 < len(c) <= limit for c in chunks)
        assert_lossless(text, chunks)
        if limit > 200:
            assert all(c.endswith("?") for c in chunks[:-1])


_alphabet = st.sampled_from([*"ab cd.!?\n\t€é😀مא—", "  ", "\u0301", "\u200d"])


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(_alphabet, max_size=400).map("".join) | st.text(max_size=400),
    limit=st.integers(min_value=2, max_value=120),
    utf16=st.booleans(),
)
def test_split_property(text: str, limit: int, utf16: bool) -> None:
    chunks = split_text(text, limit, utf16=utf16)
    measure = utf16_len if utf16 else len
    assert all(c and measure(c) <= limit for c in chunks)
    assert all(c.strip() for c in chunks)
    assert_lossless(text, chunks)
    assert "".join("".join(c.split()) for c in chunks) == "".join(text.split())


@settings(max_examples=20, deadline=None)
@given(
    words=st.lists(st.text(min_size=1, max_size=30).filter(lambda w: w.strip()), min_size=300),
)
def test_split_long_messages_property(words: list[str]) -> None:
    text = " ".join(words)[:5000]
    chunks = split_text(text, SMS_MAX_CHARS)
    assert all(0 < len(c) <= SMS_MAX_CHARS for c in chunks)
    assert "".join("".join(c.split()) for c in chunks) == "".join(text.split())
