"""FHIR R4 resources for PHQ-9 and GAD-7 administrations: one QuestionnaireResponse each, an
Observation for the total score and, for the PHQ-9, one for item 9 (thoughts of self-harm).

Subjects are pseudonymous references (`Patient/<participant_id>`): no Patient resource is
written, so nothing identifying leaves. Answers are integers 0-3 (`valueInteger`), the scoring
Tandem uses; item linkIds are the items' LOINC codes. PHQ-2 and GAD-2 screens are not exported
as FHIR (they stay in measures.csv)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.research.measures import Administration
from bot.research.people import iso
from flows.measures import get_measure

LOINC = "http://loinc.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


@dataclass(frozen=True)
class Instrument:
    panel: str  # LOINC code of the questionnaire panel
    total: str  # LOINC code of the total score
    total_display: str
    items: dict[int, str]  # item number -> LOINC code of the question
    flagged: dict[int, str]  # item number -> display: items also exported as Observations


INSTRUMENTS = {
    "phq9": Instrument(
        "44249-1",
        "44261-6",
        "Patient Health Questionnaire 9 item (PHQ-9) total score",
        {
            1: "44250-9",
            2: "44255-8",
            3: "44259-0",
            4: "44254-1",
            5: "44251-7",
            6: "44258-2",
            7: "44252-5",
            8: "44253-3",
            9: "44260-8",
            10: "69722-7",
        },
        {9: "Thoughts that you would be better off dead, or of hurting yourself in some way"},
    ),
    "gad7": Instrument(
        "69737-5",
        "70274-6",
        "Generalized anxiety disorder 7 item (GAD-7) total score",
        {
            1: "69725-0",
            2: "68509-9",
            3: "69733-4",
            4: "69734-2",
            5: "69735-9",
            6: "69689-8",
            7: "69736-7",
        },
        {},
    ),
}


def _coding(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _subject(admin: Administration) -> dict[str, str]:
    return {"reference": f"Patient/{admin.person.participant_id}"}


def _survey() -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY, "code": "survey", "display": "Survey"}]}]


def questionnaire_response(admin: Administration) -> dict[str, Any] | None:
    """The administration as a QuestionnaireResponse; None for instruments FHIR does not get."""
    spec = INSTRUMENTS.get(admin.instrument)
    if spec is None:
        return None
    scored = [i.number for i in get_measure(admin.instrument).items if i.scored]
    complete = admin.total is not None and all(n in admin.answers for n in scored)
    last = max(at for _, at in admin.answers.values())
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{admin.instrument}-{admin.id}",
        "questionnaire": f"{LOINC}/q/{spec.panel}",
        # "stopped": left unfinished (or ended early by the item-9 risk response).
        "status": "completed" if complete else "stopped",
        "subject": _subject(admin),
        "authored": iso(admin.scored_at or last),
        "item": [
            {"linkId": spec.items[n], "answer": [{"valueInteger": admin.answers[n][0]}]}
            for n in sorted(admin.answers)
            if n in spec.items
        ],
    }


def observations(admin: Administration) -> list[dict[str, Any]]:
    """The total score (when scored) and the flagged items answered, as final Observations."""
    spec = INSTRUMENTS.get(admin.instrument)
    if spec is None:
        return []
    found: list[dict[str, Any]] = []
    source = [{"reference": f"QuestionnaireResponse/qr-{admin.instrument}-{admin.id}"}]
    if admin.total is not None and admin.scored_at is not None:
        found.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{admin.instrument}-{admin.id}-total",
                "status": "final",
                "category": _survey(),
                "code": _coding(spec.total, spec.total_display),
                "subject": _subject(admin),
                "effectiveDateTime": iso(admin.scored_at),
                "valueInteger": admin.total,
                "derivedFrom": source,
            }
        )
    for number, display in spec.flagged.items():
        if number not in admin.answers:
            continue
        value, at = admin.answers[number]
        found.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{admin.instrument}-{admin.id}-item{number}",
                "status": "final",
                "category": _survey(),
                "code": _coding(spec.items[number], display),
                "subject": _subject(admin),
                "effectiveDateTime": iso(at),
                "valueInteger": value,
                "derivedFrom": source,
            }
        )
    return found
