"""Templated, localized texts and the small expression language conditions are written in.

Both use Jinja2's sandbox: content authors can write `Thanks, {{ name }}!` and `mood <= 3`, and
nothing they write can reach Python internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import SandboxedEnvironment


class _NativeSandbox(SandboxedEnvironment, NativeEnvironment):
    """Expressions return Python values (bools, ints), still sandboxed."""


_TEXT_ENV = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)
# In conditions a variable no step has set yet is simply empty (`count or 0`); `flows check`
# reports names that no step ever sets. Texts stay strict: a gap there is a content bug.
_EXPR_ENV = _NativeSandbox(undefined=Undefined)


class ContentError(Exception):
    """A text or expression could not be rendered (bad syntax or an undefined variable)."""


@lru_cache(maxsize=4096)
def _template(source: str) -> Any:
    return _TEXT_ENV.from_string(source)


@lru_cache(maxsize=4096)
def _expression(source: str) -> Any:
    return _EXPR_ENV.compile_expression(source, undefined_to_none=False)


def render(source: str, variables: Mapping[str, Any]) -> str:
    try:
        return str(_template(source).render(**variables)).strip()
    except TemplateError as exc:
        raise ContentError(f"cannot render {source!r}: {exc}") from exc


def evaluate(source: str, variables: Mapping[str, Any]) -> Any:
    try:
        return _expression(source)(**variables)
    except TemplateError as exc:
        raise ContentError(f"cannot evaluate {source!r}: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ContentError(f"cannot evaluate {source!r}: {exc}") from exc


def check_syntax(source: str, *, expression: bool = False) -> str | None:
    """The syntax error in `source`, or None when it parses."""
    try:
        if expression:
            _expression(source)
        else:
            _template(source)
    except TemplateError as exc:
        return str(exc)
    return None


def referenced_names(source: str, *, expression: bool = False) -> set[str]:
    """Top-level variable names a text or expression reads (for `flows check`)."""
    from jinja2 import meta

    wrapped = "{{ " + source + " }}" if expression else source
    try:
        return set(meta.find_undeclared_variables(_TEXT_ENV.parse(wrapped)))
    except TemplateError:
        return set()
