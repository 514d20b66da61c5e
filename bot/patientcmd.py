"""`tandem patient export ID` (JSON on stdout) and `tandem patient erase ID --yes`: the same as
GET /api/v1/patients/{id}/export and DELETE /api/v1/patients/{id}, audited as by the operator."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from bot import datarights
from bot.clock import SystemClock
from bot.settings import Settings
from storage import repo
from storage.db import Database


def add_commands(sub: Any) -> None:
    patient = sub.add_parser("patient", help="a patient's data rights: export, erase")
    patient_sub = patient.add_subparsers(dest="patient_command", required=True)
    patient_sub.add_parser(
        "export", help="print everything held about a patient (JSON)"
    ).add_argument("patient_id")
    erase = patient_sub.add_parser("erase", help="erase identifiers, bodies and free text")
    erase.add_argument("patient_id")
    erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")


async def run(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    patient_id = args.patient_id.strip().lower()
    if args.patient_command == "erase" and not args.yes:
        print("tandem: erasing cannot be undone; add --yes to confirm", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    now = SystemClock().now()
    try:
        async with db.session() as session, session.begin():
            if args.patient_command == "export":
                data = await datarights.export(session, patient_id)
                if data is not None:
                    await repo.log(session, now, "patient_exported", patient_id, {"by": "cli"})
            else:
                data = {} if await datarights.erase(session, patient_id, now, "cli") else None
    finally:
        await db.close()
    if data is None:
        print(f"tandem: no patient with id {patient_id}", file=sys.stderr)
        return 1
    if args.patient_command == "export":
        json.dump(data, out, default=str, indent=2)
        print(file=out)
    else:
        print(f"erased patient {patient_id}", file=out)
    return 0
