"""The FHIR R4 rules the export must meet, for QuestionnaireResponse and Observation: required
elements and cardinalities, value types, code systems and the LOINC codes of each instrument.
Returns a list of problems (empty when the resource is valid)."""

from __future__ import annotations

import re
from typing import Any

# R4 primitive formats (https://hl7.org/fhir/R4/datatypes.html).
ID = re.compile(r"^[A-Za-z0-9\-\.]{1,64}$")
DATETIME = re.compile(
    r"^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:"
    r"([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$"
)
REFERENCE = re.compile(r"^(Patient|QuestionnaireResponse)/[A-Za-z0-9\-\.]{1,64}$")
QR_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
OBS_STATUS = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}
VALUE_X = {
    "valueBoolean",
    "valueDecimal",
    "valueInteger",
    "valueDate",
    "valueDateTime",
    "valueTime",
    "valueString",
    "valueUri",
    "valueAttachment",
    "valueCoding",
    "valueQuantity",
    "valueReference",
}
OBS_VALUE_X = {
    "valueQuantity",
    "valueCodeableConcept",
    "valueString",
    "valueBoolean",
    "valueInteger",
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
}
LOINC = "http://loinc.org"
PANELS = {"44249-1": "phq9", "69737-5": "gad7"}
ITEMS = {
    "phq9": {
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
        "69722-7",
    },
    "gad7": {"69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"},
}
OBSERVATION_CODES = {"44261-6": (0, 27), "70274-6": (0, 21), "44260-8": (0, 3)}
QR_KEYS = {
    "resourceType",
    "id",
    "meta",
    "identifier",
    "basedOn",
    "partOf",
    "questionnaire",
    "status",
    "subject",
    "encounter",
    "authored",
    "author",
    "source",
    "item",
    "text",
}
OBS_KEYS = {
    "resourceType",
    "id",
    "meta",
    "identifier",
    "status",
    "category",
    "code",
    "subject",
    "effectiveDateTime",
    "issued",
    "derivedFrom",
    "text",
    "note",
    "interpretation",
    *OBS_VALUE_X,
}


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coding(coding: Any, where: str, problems: list[str]) -> None:
    if not isinstance(coding, list) or not coding:
        problems.append(f"{where}.coding must be a non-empty array")
        return
    for c in coding:
        if not isinstance(c, dict) or not isinstance(c.get("system"), str) or not c.get("code"):
            problems.append(f"{where}.coding needs system and code")


def _reference(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, dict) or not REFERENCE.match(str(value.get("reference", ""))):
        problems.append(f"{where} must be a Reference with a relative reference")


def questionnaire_response(r: dict[str, Any]) -> list[str]:
    p: list[str] = []
    if r.get("resourceType") != "QuestionnaireResponse":
        p.append("resourceType must be QuestionnaireResponse")
    p += [f"unknown element {k}" for k in r if k not in QR_KEYS]
    if not ID.match(str(r.get("id", ""))):
        p.append("id must match the R4 id format")
    if r.get("status") not in QR_STATUS:  # 1..1
        p.append(f"status {r.get('status')!r} is not a QuestionnaireResponse status")
    questionnaire = str(r.get("questionnaire", ""))
    panel = questionnaire.rsplit("/", 1)[-1]
    if not questionnaire.startswith(LOINC) or panel not in PANELS:
        p.append(f"questionnaire {questionnaire!r} is not a LOINC PHQ-9 / GAD-7 panel")
    _reference(r.get("subject"), "subject", p)
    if not DATETIME.match(str(r.get("authored", ""))):
        p.append("authored must be an R4 dateTime")
    items = r.get("item")
    if not isinstance(items, list) or not items:
        p.append("item must be a non-empty array")
        return p
    allowed = ITEMS.get(PANELS.get(panel, ""), set())
    seen = set()
    for item in items:
        link = item.get("linkId")
        if not isinstance(link, str) or not link:  # linkId 1..1
            p.append("item.linkId is required")
        elif link not in allowed:
            p.append(f"item.linkId {link} is not an item of panel {panel}")
        if link in seen:
            p.append(f"item.linkId {link} repeated")
        seen.add(link)
        answers = item.get("answer")
        if not isinstance(answers, list) or len(answers) != 1:
            p.append(f"item {link} needs exactly one answer")
            continue
        values = [k for k in answers[0] if k.startswith("value")]
        if len(values) != 1 or values[0] not in VALUE_X:  # value[x] 1..1, one type
            p.append(f"item {link} answer needs one value[x]")
        elif values[0] != "valueInteger" or not _int(answers[0][values[0]]):
            p.append(f"item {link} answer must be an integer")
        elif not 0 <= answers[0]["valueInteger"] <= 3:
            p.append(f"item {link} answer out of 0-3")
    return p


def observation(r: dict[str, Any]) -> list[str]:
    p: list[str] = []
    if r.get("resourceType") != "Observation":
        p.append("resourceType must be Observation")
    p += [f"unknown element {k}" for k in r if k not in OBS_KEYS]
    if not ID.match(str(r.get("id", ""))):
        p.append("id must match the R4 id format")
    if r.get("status") not in OBS_STATUS:  # 1..1
        p.append(f"status {r.get('status')!r} is not an Observation status")
    code = r.get("code")  # 1..1 CodeableConcept
    if not isinstance(code, dict):
        p.append("code is required")
        return p
    _coding(code.get("coding"), "code", p)
    loinc = [c.get("code") for c in code.get("coding", []) if c.get("system") == LOINC]
    if len(loinc) != 1 or loinc[0] not in OBSERVATION_CODES:
        p.append(f"code must carry one known LOINC code (got {loinc})")
    categories = r.get("category")
    if not isinstance(categories, list) or not categories:
        p.append("category must be a non-empty array")
    else:
        for index, category in enumerate(categories):
            _coding(category.get("coding"), f"category[{index}]", p)
        codes = {
            (c.get("system"), c.get("code")) for cat in categories for c in cat.get("coding", [])
        }
        if ("http://terminology.hl7.org/CodeSystem/observation-category", "survey") not in codes:
            p.append("category must include survey")
    _reference(r.get("subject"), "subject", p)
    if not str(r.get("subject", {}).get("reference", "")).startswith("Patient/"):
        p.append("subject must reference a Patient")
    if not DATETIME.match(str(r.get("effectiveDateTime", ""))):
        p.append("effectiveDateTime must be an R4 dateTime")
    values = [k for k in r if k.startswith("value")]
    if len(values) > 1:
        p.append("value[x] has at most one type")
    if values != ["valueInteger"] or not _int(r["valueInteger"]):
        p.append("valueInteger (an integer) is required")
    elif loinc and loinc[0] in OBSERVATION_CODES:
        low, high = OBSERVATION_CODES[loinc[0]]
        if not low <= r["valueInteger"] <= high:
            p.append(f"valueInteger {r['valueInteger']} outside {low}-{high}")
    for index, source in enumerate(r.get("derivedFrom", [])):
        _reference(source, f"derivedFrom[{index}]", p)
    return p
