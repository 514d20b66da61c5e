"""Templated, localized texts and the small expression language conditions are written in.

Both use Jinja2's sandbox: content authors can write `Thanks, {{ name }}!` and `mood <= 3`, and
nothing they write can reach Python internals.

Every text a patient or coach sees lives in `content/<locale>/<namespace>.yaml` and is found the
same way: `text("coaching.check_intro", locale, **variables)`. A flow's texts are the same files,
snapshotted with the flow's version (`CompiledFlow.text`); both look up through `lookup`, so one
fallback rule holds everywhere: the exact locale ("es-MX"), its language ("es"), then English.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
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


CONTENT_DIR = Path(__file__).with_name("content")
FALLBACK_LOCALE = "en"


@lru_cache(maxsize=256)  # a few locales, asked for on every text of every message
def fallback_locales(locale: str) -> tuple[str, ...]:
    """Where a text for `locale` is looked for, in order: the locale, its language, English."""
    language = locale.replace("_", "-").split("-")[0].lower()
    return tuple(dict.fromkeys((locale, language, FALLBACK_LOCALE)))


def lookup(
    tables: Mapping[str, Mapping[str, str]], key: str, locale: str, *, name: str | None = None
) -> str:
    """The source of text `key` in `locale` from `tables` (locale -> key -> source), following
    `fallback_locales`; a KeyError naming the key (as `name`, when given) if no locale has it."""
    candidates = fallback_locales(locale)
    for candidate in candidates:
        source = tables.get(candidate, {}).get(key)
        if source is not None:
            return source
    raise KeyError(f"no text {name or key!r} in {', '.join(candidates)}")


class ContentTexts:
    """The texts under a content directory (`<root>/<locale>/<namespace>.yaml`), addressed as
    `namespace.key` and read once per namespace."""

    def __init__(self, root: Path = CONTENT_DIR) -> None:
        self.root = root
        self._tables = cache(self._load)

    def _load(self, namespace: str) -> dict[str, dict[str, str]]:
        tables: dict[str, dict[str, str]] = {}
        for path in sorted(self.root.glob(f"*/{namespace}.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            tables[path.parent.name] = {str(k): str(v) for k, v in data.items()}
        return tables

    def tables(self, namespace: str) -> Mapping[str, Mapping[str, str]]:
        """locale -> key -> source for one namespace, every locale that has its file."""
        return self._tables(namespace)

    def source(self, key: str, locale: str) -> str:
        """The unrendered text `namespace.key` in `locale` (see `lookup` for the fallback)."""
        namespace, dot, name = key.partition(".")
        if not dot or not namespace or not name:
            raise KeyError(f"text key {key!r} is not 'namespace.key'")
        return lookup(self._tables(namespace), name, locale, name=key)

    def text(self, key: str, locale: str, **variables: Any) -> str:
        """The text `namespace.key` in `locale`, rendered with `variables`."""
        return render(self.source(key, locale), variables)


CONTENT = ContentTexts()


def text(key: str, locale: str, **variables: Any) -> str:
    """The text `namespace.key` (`content/<locale>/<namespace>.yaml`) in `locale`, rendered with
    `variables`: the one way the bot finds a text outside a flow."""
    return CONTENT.text(key, locale, **variables)
