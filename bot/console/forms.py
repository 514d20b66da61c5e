"""Form validation for the console: each problem is a plain sentence tied to its field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FormError(Exception):
    """One or more fields are invalid: {field: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class Form:
    """Reads fields from a submitted form, collecting every problem before raising."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def text(self, name: str, label: str, *, max_len: int, required: bool = True) -> str:
        raw = self.data.get(name, "")
        if not isinstance(raw, str):
            self.errors[name] = f"{label} must be text."
            return ""
        value = raw.replace("\r\n", "\n").strip()
        if required and not value:
            self.errors[name] = f"{label} must not be empty."
        elif len(value) > max_len:
            self.errors[name] = f"{label} must be at most {max_len} characters (got {len(value)})."
        elif _CONTROL.search(value):
            self.errors[name] = f"{label} contains characters that cannot be sent."
        return value

    def choice(self, name: str, label: str, options: Sequence[str]) -> str:
        raw = self.data.get(name, "")
        if not isinstance(raw, str) or raw not in options:
            listed = ", ".join(o or "(none)" for o in options)
            self.errors[name] = f"{label}: choose one of {listed}."
            return ""
        return raw

    def check(self) -> None:
        if self.errors:
            raise FormError(self.errors)
