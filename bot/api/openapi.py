"""The OpenAPI 3.1 document for /api/v1, generated from the pydantic models in schemas.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.api import schemas as s

_MODELS: list[type[BaseModel]] = [
    s.PatientCreate,
    s.PatientCreated,
    s.PatientOut,
    s.PatientUpdate,
    s.MessageOut,
    s.MessageList,
    s.EscalationOut,
    s.EscalationList,
    s.CoachMessage,
    s.NoteIn,
    s.NoteOut,
    s.NoteList,
    s.Release,
    s.TakeoverOut,
    s.CheckinTime,
    s.PauseRequest,
    s.TimezoneChange,
    s.ScheduleOut,
    s.Error,
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model)}}


def _errors(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "malformed request",
        401: "missing or invalid bearer token",
        403: "not this coach's patient",
        404: "unknown id",
        409: "conflicts with the current state",
        422: "invalid fields",
    }
    return {str(c): {"description": reasons[c], "content": _json(s.Error)} for c in codes}


def _op(
    summary: str,
    ok: tuple[int, type[BaseModel]],
    errors: tuple[int, ...],
    *,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            str(ok[0]): {"description": "ok", "content": _json(ok[1])},
            **_errors(401, *errors),
        },
    }
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": _json(body)}
    if params:
        op["parameters"] = params
    return op


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


PATIENT_ID = _path("id", {"type": "string", "format": "uuid"})
ESCALATION_ID = _path("id", {"type": "integer", "minimum": 1})


def _schedule_paths() -> dict[str, Any]:
    def change(
        summary: str, body: type[BaseModel] | None, codes: tuple[int, ...], **kw: Any
    ) -> dict[str, Any]:
        return _op(summary, (200, s.ScheduleOut), codes, body=body, params=[PATIENT_ID], **kw)

    base = "/api/v1/patients/{id}"
    edit = (400, 403, 404, 422)
    return {
        f"{base}/checkin-time": {
            "put": change("Move the daily check-in (patient-local HH:MM)", s.CheckinTime, edit)
        },
        f"{base}/timezone": {
            "put": change(
                "Set the patient's time zone (confirmed) and re-arm their check-ins",
                s.TimezoneChange,
                edit,
            )
        },
        f"{base}/pause": {
            "post": change(
                "Pause scheduled messages for 1-90 days, or until resumed",
                s.PauseRequest,
                (*edit, 409),
                body_required=False,
            )
        },
        f"{base}/resume": {"post": change("End a pause", None, (403, 404, 409))},
    }


def document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in _MODELS], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, Any] = {
        "/api/v1/patients": {
            "post": _op(
                "Enrol a patient and start onboarding",
                (201, s.PatientCreated),
                (400, 409, 422),
                body=s.PatientCreate,
            ),
            "get": _op(
                "Look a patient up by channel and address",
                (200, s.PatientOut),
                (403, 404, 422),
                params=[
                    _query("channel", {"type": "string", "enum": ["sms", "telegram"]}, True),
                    _query("address", {"type": "string"}, True),
                ],
            ),
        },
        "/api/v1/patients/{id}": {
            "get": _op("A patient", (200, s.PatientOut), (403, 404), params=[PATIENT_ID]),
            "patch": _op(
                "Change the patient's language or stated country",
                (200, s.PatientOut),
                (400, 403, 404, 422),
                body=s.PatientUpdate,
                params=[PATIENT_ID],
            ),
            "delete": {
                "summary": "Erase the patient's identifiers, bodies and free text (admins)",
                "parameters": [PATIENT_ID],
                "responses": {"204": {"description": "erased"}, **_errors(401, 403, 404)},
            },
        },
        "/api/v1/patients/{id}/export": {
            "get": {
                "summary": "Everything held about the patient, table by table (admins)",
                "parameters": [PATIENT_ID],
                "responses": {
                    "200": {
                        "description": "profile and rows by table",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors(401, 403, 404),
                },
            }
        },
        "/api/v1/patients/{id}/messages": {
            "get": _op(
                "The patient's messages across channels, oldest first",
                (200, s.MessageList),
                (403, 404, 422),
                params=[
                    PATIENT_ID,
                    _query("after", {"type": "integer", "minimum": 0}),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                ],
            ),
            "post": _op(
                "Send a coach's message on the patient's channel (needs a takeover)",
                (201, s.MessageOut),
                (400, 403, 404, 409, 422),
                body=s.CoachMessage,
                params=[PATIENT_ID],
            ),
        },
        "/api/v1/patients/{id}/notes": {
            "get": _op(
                "Coaches' notes on the patient, newest first",
                (200, s.NoteList),
                (403, 404),
                params=[PATIENT_ID],
            ),
            "post": _op(
                "Add a note (coaches only; never sent to the patient)",
                (201, s.NoteOut),
                (400, 403, 404, 422),
                body=s.NoteIn,
                params=[PATIENT_ID],
            ),
        },
        "/api/v1/patients/{id}/takeover": {
            "post": _op(
                "Take the conversation over from the bot",
                (200, s.TakeoverOut),
                (403, 404, 409),
                params=[PATIENT_ID],
            )
        },
        "/api/v1/patients/{id}/release": {
            "post": _op(
                "Hand the conversation back to the bot; resolves open escalations",
                (200, s.TakeoverOut),
                (400, 403, 404, 409, 422),
                body=s.Release,
                body_required=False,
                params=[PATIENT_ID],
            )
        },
        **_schedule_paths(),
        "/api/v1/exports": {
            "get": {
                "summary": "The research export as a zip: participants, decisions, measures, "
                "engagement and FHIR files (admins; audited; columns in docs/DATA.md)",
                "parameters": [
                    _query("since", {"type": "string", "examples": ["2026-12-01"]}),
                    _query("until", {"type": "string", "examples": ["2027-01-12T00:00:00Z"]}),
                    _query("identified", {"type": "boolean", "default": False}),
                ],
                "responses": {
                    "200": {
                        "description": "a zip of the export files",
                        "content": {
                            "application/zip": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    **_errors(401, 422),
                    "403": {"description": "not an admin", "content": _json(s.Error)},
                },
            }
        },
        "/api/v1/escalations": {
            "get": _op(
                "Escalations this coach may see, most pressing first",
                (200, s.EscalationList),
                (422,),
                params=[
                    _query(
                        "status",
                        {"type": "string", "enum": ["open", "acknowledged", "resolved", "all"]},
                    )
                ],
            )
        },
        "/api/v1/escalations/{id}/acknowledge": {
            "post": _op(
                "Acknowledge an escalation",
                (200, s.EscalationOut),
                (403, 404, 409),
                params=[ESCALATION_ID],
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tandem API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
