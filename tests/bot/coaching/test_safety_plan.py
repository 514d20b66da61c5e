"""The safety plan: "SOS"/"PLAN" starts the flow when there is no plan, the answers are stored,
and afterwards the same words (and every crisis response) bring the plan back."""

from __future__ import annotations

from bot.service import Tandem
from storage.models import SafetyPlan
from tests.bot.coaching.test_crisis import onboard
from tests.helpers import last_id, outbound, say

ANSWERS = ["can't sleep", "walk the dog", "my sister Ana", "Dr Patel", "my kids"]


async def test_plan_written_stored_and_recalled(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    before = await last_id(tandem)
    await say(tandem, "SOS")
    sent = await outbound(tandem, patient_id, after=before)
    assert sent[0].startswith("Let's write a short safety plan")
    for answer in ANSWERS:
        await say(tandem, answer)
    async with tandem.db.session() as session:
        plan = await session.get(SafetyPlan, patient_id)
        assert plan is not None
        assert plan.sections == dict(
            zip(
                ["warning_signs", "coping", "people", "professionals", "reasons"],
                ANSWERS,
                strict=True,
            )
        )
    before = await last_id(tandem)
    await say(tandem, "plan")
    (recalled,) = await outbound(tandem, patient_id, after=before)
    assert recalled.startswith("Your safety plan:") and "My reasons to live: my kids" in recalled
    before = await last_id(tandem)
    await say(tandem, "i want to end my life")
    sent = await outbound(tandem, patient_id, after=before)
    assert "988" in sent[0] and sent[2] == recalled


async def test_no_plan_while_paused_points_to_the_coach(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    await say(tandem, "i want to die")
    before = await last_id(tandem)
    await say(tandem, "sos")
    assert await outbound(tandem, patient_id, after=before) == [
        "You don't have a safety plan yet. Your coach can make one with you."
    ]
