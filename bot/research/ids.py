"""Pseudonymous participant ids: the only patient id any research output carries.

`participant_id(study_id, patient_id, key)` is HMAC-SHA256 keyed by a deployment secret over
"<study_id>:<patient_id>", hex, cut to 24 characters (96 bits: no collision in any real study),
prefixed "p". The same patient gets the same id in every export of one study and different ids
in different studies; without the key the id cannot be linked back to the patient (the patient
id is a random UUID, so it cannot be guessed either). Allocation stores this id in
`study_enrolments.participant_id`; the export derives it the same way, with the same function,
for patients who are not enrolled in a study (they were enrolled in care before it started).
"""

from __future__ import annotations

import hashlib
import hmac

LENGTH = 24


def participant_id(study_id: str, patient_id: str, key: bytes | str) -> str:
    """The participant's pseudonym in `study_id` ("" outside any study): 25 characters."""
    secret = key.encode() if isinstance(key, str) else key
    digest = hmac.new(secret, f"{study_id}:{patient_id}".encode(), hashlib.sha256).hexdigest()
    return "p" + digest[:LENGTH]
