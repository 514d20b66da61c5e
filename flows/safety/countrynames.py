"""Country names in the languages Tandem has content for, generated from phonenumbers' locale table.

phonenumbers keeps those names in its geocoding package, whose import loads ~100 MB of per-prefix
place names into every process; Tandem needs only two languages of one table, so they ship as
`countries.json`. Regenerate after a phonenumbers upgrade (a test fails when the file is stale):

    .venv/bin/python -m flows.safety.countrynames
"""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers

NAMES_FILE = Path(__file__).with_name("countries.json")
LANGUAGES = ("en", "es")


def generate() -> dict[str, dict[str, str]]:
    """{ISO code: {language: name}} for every region phonenumbers supports."""
    # Imported here only: this is the import that costs the memory.
    from phonenumbers.geodata.locale import LOCALE_DATA

    table: dict[str, dict[str, str]] = {}
    for code in sorted(phonenumbers.SUPPORTED_REGIONS):
        names = LOCALE_DATA.get(code, {})
        row: dict[str, str] = {}
        for language in LANGUAGES:
            name = str(names.get(language, ""))
            if name.startswith("*"):  # "*aa": the name is held under another language's key
                name = str(names.get(name[1:], ""))
            if name:
                row[language] = name
        table[code] = row
    return table


def render(table: dict[str, dict[str, str]]) -> str:
    return json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n"


def main() -> None:
    NAMES_FILE.write_text(render(generate()), encoding="utf-8")
    print(f"wrote {NAMES_FILE}")


if __name__ == "__main__":
    main()
