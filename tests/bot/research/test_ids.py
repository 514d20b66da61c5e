"""Pseudonyms: stable, 24 hex digits, different per study and per key, and the formula
allocation uses (HMAC-SHA256 keyed by "<study>:<key>" over the patient id)."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid

from bot.research.ids import participant_id


def test_a_pseudonym_is_stable_and_scoped() -> None:
    patient = str(uuid.uuid4())
    first = participant_id("ba-sms-pilot", patient, "20261201")
    assert re.fullmatch(r"[0-9a-f]{24}", first)
    assert participant_id("ba-sms-pilot", patient, "20261201") == first
    assert participant_id("other-study", patient, "20261201") != first
    assert participant_id("ba-sms-pilot", patient, "another key") != first
    assert participant_id("ba-sms-pilot", str(uuid.uuid4()), "20261201") != first
    assert patient not in first and patient.replace("-", "")[:24] != first
    expected = hmac.new(b"ba-sms-pilot:20261201", patient.encode(), hashlib.sha256)
    assert first == expected.hexdigest()[:24]
