"""Pseudonymous participant ids: the only patient id any research output carries.

`participant_id(study_id, patient_id, key)` is HMAC-SHA256 keyed by "<study_id>:<key>" over the
patient id, as hex cut to 24 characters (96 bits: no collision in any real study). Allocation
(bot/study/allocation.py) keys it with the study file's randomization seed and stores the result
in `study_enrolments.participant_id`; the export uses the stored id for study participants and
derives the same way, keyed by TANDEM_RESEARCH_KEY, the ids of patients who are not in the study
(enrolled in care before it started, or with no study at all: study id ""). The same patient
gets the same id in every export of one study and different ids in different studies; without
the key the id cannot be linked back to the patient, whose id is a random UUID.
"""

from __future__ import annotations

import hashlib
import hmac

LENGTH = 24


def participant_id(study_id: str, patient_id: str, key: str) -> str:
    """The patient's 24-character pseudonym in `study_id` under `key`."""
    secret = f"{study_id}:{key}".encode()
    return hmac.new(secret, patient_id.encode(), hashlib.sha256).hexdigest()[:LENGTH]
