"""Text rules for outbound messages: GSM-7 normalization, SMS segment counting, safe splitting.

Provider limits (SMS):
- Twilio accepts a message `Body` of at most 1,600 characters; longer bodies are rejected.
  https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
- A single GSM-7 SMS carries 160 septets; a concatenated one 153 per part (7 septets of each
  part go to the user data header). Extension-table characters take 2 septets.
  https://www.twilio.com/docs/glossary/what-is-gsm-7-character-encoding
- If any character is outside GSM-7 the whole message is sent as UCS-2: 70 UTF-16 code units
  single, 67 per part. Characters outside the BMP (most emoji) take 2 code units.
  https://www.twilio.com/docs/glossary/what-is-ucs-2-character-encoding
  https://www.twilio.com/docs/glossary/what-sms-character-limit
- Twilio's "Smart Encoding" does a similar look-alike replacement server side; we do it here
  so segment counts (cost) are known before sending and don't depend on a console setting.
  https://www.twilio.com/docs/messaging/services/smart-encoding-char-list
Telegram's limit lives in `bot.channels.limits` next to this module's SMS_MAX_CHARS.
"""

from __future__ import annotations

import re
import unicodedata

SMS_MAX_CHARS = 1600
GSM7_SINGLE_SEPTETS = 160
GSM7_PART_SEPTETS = 153
UCS2_SINGLE_UNITS = 70
UCS2_PART_UNITS = 67

# 3GPP TS 23.038 default alphabet (0x1B, the escape to the extension table, is excluded: it is
# never a character of its own). 0x09 is capital C-cedilla per the Unicode GSM0338 mapping.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each is sent as ESC + char, so it costs 2 septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Look-alikes with a GSM-7 equivalent. Deliberately conservative: only punctuation and spacing
# that word processors and phone keyboards substitute automatically. Letters are never touched,
# so names and non-Latin scripts survive (they simply make the message UCS-2).
_GSM_REPLACEMENTS: dict[str, str] = {
    **dict.fromkeys("‘’‚‛′‹›`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−⁃", "-"),
    **dict.fromkeys("•‣◦∙●▪", "-"),
    "…": "...",
    # No-break, en/em/thin/hair and other typographic spaces, plus tab (not in GSM-7).
    **dict.fromkeys("\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006", " "),
    **dict.fromkeys("\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
    # Invisible characters pasted from web pages; alone they would force UCS-2. The zero-width
    # joiner/non-joiner are kept because emoji sequences and Persian/Indic text need them.
    "\u200b": "",
    "\ufeff": "",
    "\u2028": "\n",
    "\u2029": "\n",
}
_GSM_TABLE = str.maketrans(_GSM_REPLACEMENTS)


def normalize_gsm(text: str) -> str:
    """Replace typographic look-alikes (smart quotes, dashes, ellipsis, odd spaces, bullets)
    with GSM-7 equivalents; every other character is left as it is."""
    return text.translate(_GSM_TABLE)


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic set or its extension table."""
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text)


def _pack(costs: list[int], per_part: int) -> int:
    """Number of parts when items of the given costs are packed in order, never split."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def count_segments(text: str) -> tuple[str, int]:
    """Return (encoding, segments) Twilio will bill for `text`: ("GSM-7" | "UCS-2", n >= 1)."""
    if is_gsm7(text):
        costs = [2 if ch in _GSM7_EXTENSION else 1 for ch in text]
        if sum(costs) <= GSM7_SINGLE_SEPTETS:
            return "GSM-7", 1
        # Handsets cannot reassemble an escape sequence cut across parts, so encoders keep
        # ESC+char together; that can cost one more part than a plain ceil(septets / 153).
        return "GSM-7", _pack(costs, GSM7_PART_SEPTETS)
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    if sum(costs) <= UCS2_SINGLE_UNITS:
        return "UCS-2", 1
    # Likewise a surrogate pair stays within one part.
    return "UCS-2", _pack(costs, UCS2_PART_UNITS)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram and UCS-2 SMS count in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# A newline (paragraph or line break) is the most natural place to cut.
_LINE_BREAK = re.compile(r"\n")
# Sentence end: terminal punctuation (Latin, Arabic/Urdu, CJK), optional closing quotes or
# brackets, then whitespace. The cut goes after the punctuation.
_SENTENCE_END = re.compile(r"[.!?…؟۔。！？]+[\"'’”»)\]]*(?=\s)")
_WHITESPACE = re.compile(r"\s")


def _fit(text: str, limit: int, utf16: bool) -> int:
    """How many leading characters of `text` fit in `limit` units."""
    if not utf16:
        return min(len(text), limit)
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return i
    return len(text)


def _joins_previous(ch: str) -> bool:
    # Combining marks, variation selectors, skin-tone modifiers and ZWJ belong to the preceding
    # character; cutting before them would detach an accent or break an emoji sequence.
    return (
        unicodedata.category(ch).startswith("M")
        or ch in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
    )


def _cut_position(text: str, fit: int) -> int:
    """Index at which to end the next chunk; 1 <= result <= fit. `text` starts non-blank."""
    window = text[: fit + 1]
    last_space = 0
    for pattern, use_end in ((_LINE_BREAK, False), (_SENTENCE_END, True), (_WHITESPACE, False)):
        cuts = [m.end() if use_end else m.start() for m in pattern.finditer(window)]
        cuts = [c for c in cuts if 0 < c <= fit]
        if not cuts:
            continue
        # Take the stronger boundary unless it would leave a chunk under a third full: a
        # boundary near the start means a tiny message followed by a full one.
        if cuts[-1] >= fit // 3:
            return cuts[-1]
        last_space = cuts[-1]  # the whitespace level runs last and has the latest cut
    if last_space:
        return last_space
    cut = fit
    while cut > 1 and (_joins_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    return cut


def split_text(text: str, limit: int, *, utf16: bool = False) -> list[str]:
    """Split `text` into chunks of at most `limit` characters (UTF-16 code units if `utf16`).

    Cuts at line breaks, then sentence ends, then spaces, and only cuts inside a word that is
    longer than `limit`. Whitespace at each cut (and around a text that needs splitting) is
    dropped; nothing else is lost or reordered. Chunks are never empty; blank text gives [].
    """
    if limit < (2 if utf16 else 1):
        raise ValueError(f"limit too small: {limit}")
    if not text.strip():
        return []
    if _fit(text, limit, utf16) == len(text):
        return [text]
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        fit = _fit(rest, limit, utf16)
        if fit == len(rest):
            chunks.append(rest)
            break
        cut = _cut_position(rest, fit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return chunks
