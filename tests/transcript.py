"""Recorded conversations a clinician can read, replayed through the pure engine.

A transcript file:

    # Consent given after one unclear answer
    flow: onboarding
    locale: en
    patient: {name: Sam}          (optional, YAML)
    channel: telegram             (optional, default sms: flows branch on `patient.channel`)
    start: 2026-03-02T09:00Z      (optional)
    ---
    bot: Hi, this is Tandem: ...
    patient: maybe
    bot: Please reply YES to join or NO if you'd rather not.
    wait: 25h
    bot: Just checking: would you like to join? Reply YES or NO.
    * schedule checkin daily at 09:00

`patient:`, `wait:` and `open: <flow>` lines are the script (`open:` starts that flow again, as the
patient choosing it from the menu; facts written so far are kept, so one transcript can follow a
patient over several sessions and weeks); `bot:` lines (continued on lines starting with two
spaces) and `*` lines (what the flow asked Tandem to do) are the expected output, which
`pytest --regen-transcripts` rewrites from what the engine actually does.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from flows import model as m
from flows.engine import step
from flows.library import FlowLibrary

SITE = {"program": "Tandem", "support": "your care team"}
_WAIT = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|h|d)$")


@dataclass
class Transcript:
    path: Path
    comments: list[str]
    header: dict[str, Any]
    lines: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)

    @property
    def script(self) -> list[tuple[str, str]]:
        return [(k, t) for k, t in self.lines if k in {"patient", "wait", "tap", "open"}]


def parse(path: Path) -> Transcript:
    text = path.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    comments = [line for line in head.splitlines() if line.startswith("#")]
    kept = [line for line in head.splitlines() if not line.startswith("#")]
    header = yaml.safe_load("\n".join(kept)) or {}
    lines: list[tuple[str, str]] = []
    for raw in body.splitlines():
        if raw.startswith("  ") and lines and lines[-1][0] == "bot":
            lines[-1] = ("bot", lines[-1][1] + "\n" + raw[2:])
        elif raw.startswith("* "):
            lines.append(("action", raw[2:]))
        elif ":" in raw:
            kind, _, rest = raw.partition(":")
            lines.append((kind.strip(), rest.strip()))
        elif raw.strip():
            raise ValueError(f"{path}: cannot read line {raw!r}")
    return Transcript(path, comments, header, lines)


def _describe(action: m.Action) -> str | None:
    if isinstance(action, m.Schedule):
        if action.local_time:
            return f"schedule {action.kind} daily at {action.local_time}"
        return f"schedule {action.kind} at {action.at:%Y-%m-%d %H:%M}Z" if action.at else None
    if isinstance(action, m.Escalate):
        return f"escalate {action.reason} ({action.priority})"
    if isinstance(action, m.RecordMeasure):
        shown = f"measure {action.measure} item {action.item} = {action.value}"
        if action.carried_from:
            shown += f" (carried over from {action.carried_from})"
        return shown + (f" (interpreted from {action.raw!r})" if action.interpreted else "")
    if isinstance(action, m.MeasureScored):
        return f"measure {action.measure} total {action.total} ({action.band})"
    if isinstance(action, m.UpdatePatient):
        fields = {k: v for k, v in action.fields.items() if k != "consent_text"}
        return (
            "update patient " + ", ".join(f"{k}={v}" for k, v in fields.items()) if fields else None
        )
    if isinstance(action, m.FlowEnded):
        return f"{action.flow_id} ended: {action.outcome}"
    return None


def _output(actions: tuple[m.Action, ...]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for action in actions:
        if isinstance(action, m.Send):
            text = action.text
            if action.choices:
                text += "\n[" + " | ".join(label for label, _ in action.choices) + "]"
            out.append(("bot", text))
        else:
            described = _describe(action)
            if described:
                out.append(("action", described))
    return out


def _delta(text: str) -> timedelta:
    match = _WAIT.match(text)
    if not match:
        raise ValueError(f"wait must look like 30m, 25h or 2d, not {text!r}")
    amount, unit = float(match.group(1)), match.group(2)
    return timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})


def replay(library: FlowLibrary, transcript: Transcript) -> list[tuple[str, str]]:
    """Run the transcript's script; return the full conversation as it happened."""
    header = transcript.header
    start = header.get("start")
    now = (
        datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        if start
        else datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    )
    ids = itertools.count(1)
    patient = {
        "name": None,
        "checkin_time": None,
        "channel": str(header.get("channel", "sms")),
        "program": None,
        "last_scores": {},
        **(header.get("patient") or {}),
    }
    rng = random.Random(int(header.get("seed", 7)))

    def ctx() -> m.Context:
        return m.Context(
            now=now,
            locale=str(header.get("locale", "en")),
            timezone=str(header.get("timezone", "UTC")),
            new_id=lambda: f"id{next(ids)}",
            rng=rng,
            patient=dict(patient),
            site=SITE,
        )

    def apply(result: m.StepResult) -> None:
        for action in result.actions:
            if isinstance(action, m.UpdatePatient):
                for key, value in action.fields.items():
                    patient["name" if key == "display_name" else key] = value
        lines.extend(_output(result.actions))

    lines: list[tuple[str, str]] = []
    result = step(library, None, m.Start(str(header["flow"]), header.get("variables") or {}), ctx())
    apply(result)
    run = result.run
    for kind, text in transcript.script:
        lines.append((kind, text))
        if kind == "wait":
            now += _delta(text)
            if run is not None and run.timeout_at is not None and run.timeout_at <= now:
                result = step(library, run, m.Timeout(), ctx())
                apply(result)
                run = result.run
            continue
        if kind == "open":
            result = step(library, run, m.Start(text), ctx())
            apply(result)
            run = result.run
            continue
        if run is None or run.status == "ended":
            lines.append(("action", "(no flow is running)"))
            continue
        event = m.Text("", payload=text) if kind == "tap" else m.Text(text)
        result = step(library, run, event, ctx())
        apply(result)
        run = result.run
    return lines


def render(transcript: Transcript, lines: list[tuple[str, str]]) -> str:
    head = "\n".join(transcript.comments)
    header = yaml.safe_dump(transcript.header, sort_keys=False, allow_unicode=True, width=1000)
    body = []
    for kind, text in lines:
        if kind == "action":
            body.append(f"* {text}")
        else:
            first, *rest = text.split("\n")
            body.append(f"{kind}: {first}")
            body.extend(f"  {line}" for line in rest)
    return (head + "\n" if head else "") + header + "---\n" + "\n".join(body) + "\n"
