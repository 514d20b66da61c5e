"""Editing a flow never breaks a conversation in flight: through the real pipeline and database,
a run keeps the version it started with while new runs use the edited one."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from flows.library import PACKAGE_DIR, FlowLibrary
from storage import repo
from tests.helpers import last_id, outbound, say


def _edit(root: Path) -> None:
    """A content change and a structural one: a new step between consent and the name."""
    texts = root / "content" / "en" / "onboarding.yaml"
    texts.write_text(
        texts.read_text(encoding="utf-8").replace(
            'name_ask: "Welcome! What name would you like me to call you?"',
            'name_ask: "Great! What should I call you?"\nthanks: "Thanks for joining."',
        ),
        encoding="utf-8",
    )
    definition = root / "definitions" / "onboarding.yaml"
    text = definition.read_text(encoding="utf-8")
    text = text.replace(
        "  record_consent:\n    type: update_patient\n",
        "  say_thanks:\n    type: message\n    text: thanks\n    next: ask_name\n\n"
        "  record_consent:\n    type: update_patient\n",
    ).replace('      consent_text: "text(\'consent_ask\')"\n    next: ask_name',
              '      consent_text: "text(\'consent_ask\')"\n    next: say_thanks', 1)  # fmt: skip
    definition.write_text(text, encoding="utf-8")
    for locale in ("es",):
        es = root / "content" / locale / "onboarding.yaml"
        es.write_text(es.read_text(encoding="utf-8") + 'thanks: "Gracias por unirte."\n')


async def test_in_flight_run_finishes_on_its_version(
    tmp_path: Path, settings: Settings, clock: FakeClock
) -> None:
    root = tmp_path / "flows"
    shutil.copytree(PACKAGE_DIR / "definitions", root / "definitions")
    shutil.copytree(PACKAGE_DIR / "content", root / "content")
    old_library = FlowLibrary.load(root)
    first = Tandem(settings, clock=clock, library=old_library)
    try:
        alice = await say(first, "hi", address="alice")
    finally:
        await first.close()
    old_version = old_library.get("onboarding").version

    _edit(root)
    new_library = FlowLibrary.load(root)
    new_version = new_library.get("onboarding").version
    assert new_version != old_version
    assert not new_library.has_version("onboarding", old_version)

    # A restarted process with the edited flows: Alice's run still uses the old version.
    second = Tandem(settings, clock=clock, library=new_library)
    try:
        before = await last_id(second)
        await say(second, "yes", address="alice")
        assert await outbound(second, alice.patient_id, after=before) == [
            "Welcome! What name would you like me to call you?"
        ]
        await say(second, "Alice", address="alice")
        async with second.db.session() as session:
            run = await repo.active_run(session, alice.patient_id)
        assert run is not None and run.flow_version == old_version
        assert second.pipeline.library.has_version("onboarding", old_version)

        # A new conversation starts on the edited version.
        bob = await say(second, "hello", address="bob")
        before = await last_id(second)
        await say(second, "yes", address="bob")
        assert await outbound(second, bob.patient_id, after=before) == [
            "Thanks for joining.",
            "Great! What should I call you?",
        ]
        async with second.db.session() as session:
            run = await repo.active_run(session, bob.patient_id)
        assert run is not None and run.flow_version == new_version
    finally:
        await second.close()
