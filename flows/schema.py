"""The JSON Schema of flow definitions, generated from the pydantic step models.

Published as docs/flow.schema.json (`tandem flows docs` rewrites it; a test fails when it is
stale), so editors can validate and complete flow YAML without running Tandem.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from flows.menu import MenuSpec
from flows.steps import REGISTRY

SCHEMA_ID = "https://github.com/tandem-health/tandem/docs/flow.schema.json"


def _step_schema(kind: str, defs: dict[str, Any]) -> dict[str, Any]:
    cls = REGISTRY[kind]
    schema = cls.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    props = schema.get("properties", {})
    # Steps whose YAML key `kind` is stored as `kind_` (it clashes with the class's step kind).
    if "kind_" in props:
        props["kind"] = props.pop("kind_")
        props["kind"]["title"] = "Kind"
        schema["required"] = sorted({*schema.get("required", []), "kind"})
    module = sys.modules[cls.__module__].__doc__ or ""
    schema["description"] = module.strip().split("\n")[0]
    return schema


def flow_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    steps = {}
    for kind in sorted(REGISTRY):
        name = f"{REGISTRY[kind].__name__}"
        steps[name] = _step_schema(kind, defs)
    defs.update(steps)
    menu = MenuSpec.model_json_schema()
    menu["description"] = "Offer this flow in the patient's menu (see flows/README.md)."
    defs["MenuSpec"] = menu
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tandem flow definition",
        "description": "flows/definitions/<id>.yaml (texts: flows/content/<locale>/<id>.yaml)",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "start", "steps"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "version": {"type": ["integer", "string"]},
            "description": {"type": "string"},
            "menu": {"$ref": "#/$defs/MenuSpec"},
            "start": {"type": "string", "description": "the first step"},
            "steps": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {
                    "oneOf": [{"$ref": f"#/$defs/{name}"} for name in steps],
                },
            },
        },
        "$defs": defs,
    }


def schema_text() -> str:
    return json.dumps(flow_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
