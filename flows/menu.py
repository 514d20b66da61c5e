"""What a patient can do now: the menu entries flows declare about themselves.

The contract (for everyone adding a flow): a flow appears in the patient's menu when its definition
has a top-level `menu:` block, and only then:

```yaml
id: anx_breathing
version: 1
menu:
  group: anxiety      # ba | anxiety | tools  (which program it belongs to; tools = everyone)
  label: menu_label   # a text key in this flow's content files (en and es): "Calm breathing"
  order: 20           # position within the group, lower first
start: ...
```

`tandem flows check` verifies the label exists in every locale. The menu (bot/menu.py) lists the
entries of the patient's program first (`patient.program`: ba, anxiety or both; none yet: all),
then `tools`, numbered; replying with a number or a label starts that flow, ending the run that
was waiting (or BACK to carry on with it). A flow started from the menu runs on its own: it should
end (no `then:`), so the patient's daily check-in and program schedule carry on as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

GROUPS = ("ba", "anxiety", "tools")
PROGRAM_GROUPS = {
    "ba": ("ba", "tools", "anxiety"),
    "anxiety": ("anxiety", "tools", "ba"),
    "both": ("ba", "anxiety", "tools"),
}
# Groups a patient on a program sees at all; the other program's entries stay out of the way.
VISIBLE = {"ba": {"ba", "tools"}, "anxiety": {"anxiety", "tools"}}


class MenuSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    group: Literal["ba", "anxiety", "tools"]
    label: str
    order: int = Field(default=100, ge=0)


@dataclass(frozen=True)
class MenuEntry:
    flow_id: str
    group: str
    label: str  # rendered in the patient's locale


class _Listed(Protocol):
    id: str
    menu: MenuSpec | None

    def text(self, key: str, locale: str) -> str: ...


class _Library(Protocol):
    """What the menu reads of the flow library (flows/library.py)."""

    @property
    def current(self) -> Mapping[str, _Listed]: ...


# A library's flows never change once it is built (a new version is a new library), so its
# menus are worked out once per program and locale, not on every message that might be a label.
_MENUS: weakref.WeakKeyDictionary[Any, dict[tuple[str | None, str], tuple[MenuEntry, ...]]]
_MENUS = weakref.WeakKeyDictionary()


def entries(library: _Library, program: str | None, locale: str) -> list[MenuEntry]:
    """The menu for a patient on `program`, in display order."""
    menus = _MENUS.setdefault(library, {})
    key = (program, locale)
    if key not in menus:
        menus[key] = tuple(_entries(library, program, locale))
    return list(menus[key])


def _entries(library: _Library, program: str | None, locale: str) -> list[MenuEntry]:
    groups = PROGRAM_GROUPS.get(program or "", ("ba", "anxiety", "tools"))
    visible = VISIBLE.get(program or "", set(GROUPS))
    found = []
    for flow in library.current.values():
        spec = flow.menu
        if spec is None or spec.group not in visible:
            continue
        rank = (groups.index(spec.group), spec.order, flow.id)
        found.append((rank, MenuEntry(flow.id, spec.group, flow.text(spec.label, locale))))
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]
