"""The safety plan (Stanley & Brown, all seven parts): "PLAN" starts the flow when there is no
plan, the answers are stored, and afterwards PLAN and SOS (with the help lines) bring it back."""

from __future__ import annotations

from bot.service import Tandem
from storage.models import SafetyPlan
from tests.bot.coaching.test_crisis import onboard
from tests.helpers import last_id, outbound, say

ANSWERS = [
    "can't sleep",
    "walk the dog",
    "the park, my friend Leo",
    "my sister Ana",
    "Dr Patel",
    "give my pills to Ana to keep",
    "my kids",
]
SECTIONS = [
    "warning_signs",
    "coping",
    "places",
    "people",
    "professionals",
    "environment",
    "reasons",
]


async def test_plan_written_stored_and_recalled(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    before = await last_id(tandem)
    await say(tandem, "SOS")
    sent = await outbound(tandem, patient_id, after=before)
    # SOS without a plan: the help lines, and how to make one.
    assert "988" in sent[0] and sent[1].endswith("Reply PLAN to make one.")
    before = await last_id(tandem)
    await say(tandem, "plan")
    sent = await outbound(tandem, patient_id, after=before)
    assert sent[0].startswith("Let's write your safety plan together")
    for answer in ANSWERS:
        await say(tandem, answer)
    async with tandem.db.session() as session:
        plan = await session.get(SafetyPlan, patient_id)
        assert plan is not None
        assert plan.sections == dict(zip(SECTIONS, ANSWERS, strict=True))
    before = await last_id(tandem)
    await say(tandem, "plan")
    (recalled,) = await outbound(tandem, patient_id, after=before)
    assert recalled.startswith("Your safety plan:") and "My reasons to live: my kids" in recalled
    assert "Making my surroundings safe: give my pills to Ana to keep" in recalled
    before = await last_id(tandem)
    await say(tandem, "SOS")
    sent = await outbound(tandem, patient_id, after=before)
    assert "988" in sent[0] and sent[1] == recalled


async def test_no_plan_while_paused_points_to_the_coach(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    await say(tandem, "i want to die")
    before = await last_id(tandem)
    await say(tandem, "sos")
    sent = await outbound(tandem, patient_id, after=before)
    assert "988" in sent[0]
    assert sent[1] == "You don't have a safety plan yet. Your coach can make one with you."
