"""Phrase table for the risk detector: what must be caught, what must be let through."""

from __future__ import annotations

import pytest

from flows.safety.detect import assess

# (text, expected level, category that must be among the signals or None for level "none")
RISK = "risk"
CONCERN = "concern"
NONE = "none"

CASES: list[tuple[str, str, str | None]] = [
    # --- suicide, plain English
    ("I want to kill myself", RISK, "active_ideation"),
    ("i'm going to kill myself tonight", RISK, "active_ideation"),
    ("I am thinking about killing myself", RISK, "active_ideation"),
    ("I want to die", RISK, "active_ideation"),
    ("i just want to die", RISK, "active_ideation"),
    ("I wish I was dead", CONCERN, "passive_ideation"),
    ("everyone would be better off if I was dead. better off dead", CONCERN, "passive_ideation"),
    ("I don't want to live anymore", RISK, "active_ideation"),
    ("i dont want to be alive", RISK, "active_ideation"),
    ("I'm going to end my life", RISK, "active_ideation"),
    ("I want to take my own life", RISK, "active_ideation"),
    ("I'm having suicidal thoughts", RISK, "active_ideation"),
    ("thinking about suicide a lot lately", RISK, "active_ideation"),
    ("there is no reason to live", CONCERN, "hopelessness"),
    ("I'm going to end it all", RISK, "active_ideation"),
    ("I wrote a note for my family", RISK, "preparatory"),
    ("I'm tired of living", RISK, "active_ideation"),
    ("I want to hang myself", RISK, "method"),
    # --- typos
    ("i want to kil myself", RISK, "active_ideation"),
    ("thinking about sucide", RISK, "active_ideation"),
    ("i feel suicdal", RISK, "active_ideation"),
    ("suiside is on my mind", RISK, "active_ideation"),
    ("I feel suicidial tonight", RISK, "active_ideation"),
    ("gonna kill myslef", RISK, "active_ideation"),
    ("i want to kill my self", RISK, "active_ideation"),
    # --- spacing, punctuation, emoji
    ("i want to k i l l myself", RISK, "active_ideation"),
    ("killmyself", RISK, "active_ideation"),
    ("i will k.i.l.l. myself", RISK, "active_ideation"),
    ("kill 💀 myself", RISK, "active_ideation"),
    ("kill...myself", RISK, "active_ideation"),
    ("I want to d i e", RISK, "active_ideation"),
    ("K I L L   M Y S E L F", RISK, "active_ideation"),
    ("kill\u200bmyself", RISK, "active_ideation"),
    # --- elongation and case
    ("I want to diieee", RISK, "active_ideation"),
    ("i'm sooo done i want to dieeeee", RISK, "active_ideation"),
    ("I WANT TO KILLLLL MYSELF", RISK, "active_ideation"),
    ("wanna diiiie", RISK, "active_ideation"),
    # --- leetspeak and text-speak
    ("i want to k1ll mys3lf", RISK, "active_ideation"),
    ("gonna k!ll myself", RISK, "active_ideation"),
    ("kms", RISK, "active_ideation"),
    ("honestly i might kms", RISK, "active_ideation"),
    ("i want to kms fr", RISK, "active_ideation"),
    ("i want to unalive myself", RISK, "active_ideation"),
    ("thinking of unaliving myself", RISK, "active_ideation"),
    ("should i kys", CONCERN, "active_ideation"),
    ("kys", CONCERN, "active_ideation"),
    # --- negation stays "possible", never "none"
    ("I don't want to kill myself", CONCERN, "active_ideation"),
    ("I would never kill myself", CONCERN, "active_ideation"),
    ("I'm not going to kill myself", CONCERN, "active_ideation"),
    ("i'm not suicidal", CONCERN, "active_ideation"),
    ("I don't want to die", CONCERN, "active_ideation"),
    ("I won't hurt myself, promise", CONCERN, "self_harm"),
    ("I'm not going to hurt myself", CONCERN, "self_harm"),
    ("no me quiero matar", CONCERN, "active_ideation"),
    ("nunca me haría daño", CONCERN, "self_harm"),
    ("no voy a suicidarme", CONCERN, "active_ideation"),
    ("I'm not okay, I want to die", RISK, "active_ideation"),
    ("not okay i want to die", RISK, "active_ideation"),
    ("I can't stop thinking about killing myself", RISK, "active_ideation"),
    ("I don't know, I want to kill myself", RISK, "active_ideation"),
    ("no one would care if i killed myself", RISK, "active_ideation"),
    ("I don't want to kill myself but I want to die", RISK, "active_ideation"),
    ("ya no puedo más, me quiero matar", RISK, "active_ideation"),
    # --- unclear: possible
    ("I can't go on like this", CONCERN, "hopelessness"),
    ("I can't take it anymore", CONCERN, "hopelessness"),
    ("i want to disappear", CONCERN, "active_ideation"),
    ("I feel like I'm going to die", CONCERN, "active_ideation"),
    ("ya no aguanto más", CONCERN, "hopelessness"),
    ("quiero desaparecer", CONCERN, "active_ideation"),
    # --- Spanish suicide
    ("me quiero matar", RISK, "active_ideation"),
    ("quiero matarme", RISK, "active_ideation"),
    ("quiero mataaarme", RISK, "active_ideation"),
    ("me voy a suicidar", RISK, "active_ideation"),
    ("Me quiero morir", RISK, "active_ideation"),
    ("quiero morirme ya", RISK, "active_ideation"),
    ("no quiero vivir", RISK, "active_ideation"),
    ("ya no quiero vivir más", RISK, "active_ideation"),
    ("estoy pensando en quitarme la vida", RISK, "active_ideation"),
    ("pienso en el suicidio", RISK, "active_ideation"),
    ("pienso en el suisidio", RISK, "active_ideation"),
    ("estarían mejor sin mí", CONCERN, "hopelessness"),
    ("QUIERO ACABAR CON MI VIDA", RISK, "active_ideation"),
    ("tengo ganas de morir", RISK, "active_ideation"),
    ("me kiero matar", RISK, "active_ideation"),
    ("kiero matarme", RISK, "active_ideation"),
    # --- code-switching, either locale
    ("honestly quiero morir", RISK, "active_ideation"),
    ("estoy cansada, I want to die", RISK, "active_ideation"),
    # --- self harm
    ("I cut myself last night", RISK, "self_harm"),
    ("i've been cutting myself again", RISK, "self_harm"),
    ("I want to hurt myself", RISK, "self_harm"),
    ("I burned myself on purpose", RISK, "self_harm"),
    ("I started cutting again", RISK, "self_harm"),
    ("my arms have cuts, I cut my wrists", RISK, "self_harm"),
    ("I relapsed on sh", RISK, "self_harm"),
    ("i did sh again", RISK, "self_harm"),
    ("the sh urges are bad today", RISK, "self_harm"),
    ("I have been self harming", RISK, "self_harm"),
    ("self-harm", RISK, "self_harm"),
    ("hurt myslef", RISK, "self_harm"),
    ("me corto los brazos", RISK, "self_harm"),
    ("me volví a cortar", RISK, "self_harm"),
    ("quiero lastimarme", RISK, "self_harm"),
    ("me hago daño cuando estoy triste", RISK, "self_harm"),
    # --- abuse, including minors
    ("my dad hits me", RISK, "abuse_adult"),
    ("My stepdad beats me when he's drunk", RISK, "abuse_adult"),
    ("my mom hit me again", RISK, "abuse_adult"),
    ("he hits me", RISK, "abuse_adult"),
    ("my uncle touches me and i dont like it", RISK, "abuse_child"),
    ("my boyfriend chokes me", RISK, "abuse_adult"),
    ("i was raped", RISK, "sexual_abuse"),
    ("I'm scared to go home", RISK, "abuse_child"),
    ("my teacher touched me inappropriately", RISK, "abuse_child"),
    ("my dad is hitting me", RISK, "abuse_child"),
    ("me pega mi papá", RISK, "abuse_adult"),
    ("mi papá me pega", RISK, "abuse_adult"),
    ("mi padrastro me toca", RISK, "abuse_child"),
    ("mi mamá me golpea", RISK, "abuse_adult"),
    ("me pegan en casa", RISK, "abuse_adult"),
    ("abusó de mí", RISK, "sexual_abuse"),
    ("mi novio me maltrata", RISK, "abuse_adult"),
    ("tengo miedo de volver a casa", RISK, "abuse_child"),
    ("I don't feel safe at home", CONCERN, "abuse_adult"),
    # --- violence
    ("I want to kill him", RISK, "violence"),
    ("i'm going to hurt someone", RISK, "violence"),
    ("I'm gonna shoot up the school", RISK, "violence"),
    ("I'm going to stab my brother", RISK, "violence"),
    ("i want to kill my boss", RISK, "violence"),
    ("I will kill them all", RISK, "violence"),
    ("lo voy a matar", RISK, "violence"),
    ("quiero matar a mi jefe", RISK, "violence"),
    ("voy a lastimar a alguien", RISK, "violence"),
    ("you should kys", CONCERN, "violence"),
    # --- overdose
    ("I took all my pills", RISK, "attempt"),
    ("i took 30 pills", RISK, "attempt"),
    ("I took the whole bottle of tylenol", RISK, "attempt"),
    ("I'm going to overdose", RISK, "attempt"),
    ("i overdosed last year", RISK, "attempt"),
    ("i think i took too many", RISK, "attempt"),
    ("gonna od tonight", RISK, "plan"),
    ("overdosd on purpose", RISK, "attempt"),
    ("he overdoes it at the gym", NONE, None),
    ("me tomé todas las pastillas", RISK, "attempt"),
    ("tomé 20 pastillas", RISK, "attempt"),
    ("sobredosis", RISK, "attempt"),
    ("sobredósis", RISK, "attempt"),
    ("I've been saving up pills", RISK, "preparatory"),
    # --- eating disorder
    ("I've been starving myself", CONCERN, "eating_disorder"),
    ("I make myself throw up after eating", CONCERN, "eating_disorder"),
    ("i haven't eaten in days", CONCERN, "eating_disorder"),
    ("I think I have anorexia", CONCERN, "eating_disorder"),
    ("i'm bulimic", CONCERN, "eating_disorder"),
    ("i feel anorexc", CONCERN, "eating_disorder"),
    ("I stopped eating", CONCERN, "eating_disorder"),
    ("dejé de comer", CONCERN, "eating_disorder"),
    ("me provoco el vómito", CONCERN, "eating_disorder"),
    ("vomitar después de comer", CONCERN, "eating_disorder"),
    ("I feel so fat", CONCERN, "eating_disorder"),
    ("me siento gorda", CONCERN, "eating_disorder"),
    # --- human request
    ("I want to talk to a person", CONCERN, "human_request"),
    ("can I talk to a real person?", CONCERN, "human_request"),
    ("I want to speak with a human", CONCERN, "human_request"),
    ("human please", CONCERN, "human_request"),
    ("are you a bot", CONCERN, "human_request"),
    ("can i talk to my coach", CONCERN, "human_request"),
    ("quiero hablar con una persona", CONCERN, "human_request"),
    ("necesito hablar con alguien", CONCERN, "human_request"),
    ("¿eres un robot?", CONCERN, "human_request"),
    # --- idioms and false friends: nothing detected
    ("this homework is killing me", NONE, None),
    ("my feet are killing me", NONE, None),
    ("I'm dying to see it", NONE, None),
    ("I'm dying to see you!!", NONE, None),
    ("me muero de risa", NONE, None),
    ("me muero de ganas de verte", NONE, None),
    ("killed it at work today", NONE, None),
    ("I'm dead tired", NONE, None),
    ("my library book is overdue", NONE, None),
    ("I cut the onions for dinner", NONE, None),
    ("I cut my hair", NONE, None),
    ("I ran 5 kms today", NONE, None),
    ("shhh it's fine", NONE, None),
    ("that's kinda ish", NONE, None),
    ("I took my meds today", NONE, None),
    ("took 2 tylenol for a headache", NONE, None),
    ("I could die of embarrassment", NONE, None),
    ("i want to die of laughter lol", NONE, None),
    ("quiero morir de la vergüenza", NONE, None),
    ("hit me up later", NONE, None),
    ("it just hit me that it's friday", NONE, None),
    ("my brother beat me at chess", NONE, None),
    ("me toca trabajar mañana", NONE, None),
    ("se me pega la canción", NONE, None),
    ("me mato estudiando para el examen", NONE, None),
    ("I skill up every day", NONE, None),
    ("I feel great today, went for a walk", NONE, None),
    ("walked the dog, felt okay", NONE, None),
    ("suicide squad was a fun movie", NONE, None),
    ("", NONE, None),
    ("   ", NONE, None),
    ("👍", NONE, None),
    ("YES", NONE, None),
    ("NO", NONE, None),
    ("STOP", NONE, None),
    ("hoy me fue bien en el trabajo", NONE, None),
    ("mi papá me llevó al parque", NONE, None),
    ("I'm so happy I could die", NONE, None),
    ("cutting myself some slack this week", NONE, None),
    ("I hurt myself playing soccer", NONE, None),
    ("cut myself shaving lol", NONE, None),
    ("I shot myself in the foot with that email", NONE, None),
    ("do sh*t like that", NONE, None),
    ("my sh*t is everywhere", NONE, None),
    ("I hurt myself at night when nobody sees", RISK, "self_harm"),
    ("I cut myself, it was not an accident", RISK, "self_harm"),
    ("k*ll myself", RISK, "active_ideation"),
    ("tomé mis pastillas hoy", NONE, None),
    ("me tomé 2 pastillas para el dolor", NONE, None),
    ("my mom is going to kill me if I fail", NONE, None),
]


@pytest.mark.parametrize(("text", "level", "category"), CASES)
def test_phrase_table(text: str, level: str, category: str | None) -> None:
    for locale in ("en", "es"):
        result = assess(text, locale)
        found = {s.category for s in result.signals}
        assert result.level == level, (locale, result)
        if category is None:
            assert not result.signals
        else:
            assert category in found, (locale, result)


def test_table_is_large_and_balanced() -> None:
    assert len(CASES) >= 150
    assert sum(1 for _, level, _ in CASES if level == NONE) >= 30
    assert sum(1 for _, level, _ in CASES if level == CONCERN) >= 30


def test_words_inside_longer_words_do_not_match() -> None:
    # "skilled myself" must not read as "kill myself".
    assert assess("a skilled myself-starter").level == NONE
