"""Frames that change what a matched phrase means, read over the whole normalised message.

A lexicon phrase is matched word by word; some messages put it in a frame that makes it
everyday talk: a struggle told as long past with life good now ("3 years free from self harm
today and I'm happy"), a threat made with laughter ("my sister stole my hoodie, gonna strangle
her lol"), giving things away because of a move or a rope bought for camping, a goodbye on the
last day at work, a jump in a video game, sleeping "and not waking up till noon". Each frame
names the categories it quiets; a struggle told as past never counts as past when the message
also looks ahead to acting ("again", "tonight", "next time", "want to").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flows.safety.normalize import normalize

_SELF = frozenset(
    {
        "attempt",
        "self_harm",
        "active_ideation",
        "passive_ideation",
        "plan",
        "method",
        "preparatory",
        "intent",
    }
)


def _words(phrases: Iterable[str]) -> str:
    # Phrases go through the same normalisation as messages ("free" -> "fre", "años" -> "anos").
    alternatives = sorted({normalize(p.replace("#", "qzx")) for p in phrases}, key=len)
    body = "|".join(re.escape(a).replace("qzx", "[0-9]+") for a in reversed(alternatives) if a)
    return rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])"


@dataclass(frozen=True)
class Frame:
    name: str
    quiets: frozenset[str]
    needs: tuple[re.Pattern[str], ...]  # every one must match somewhere in the message
    # A past told with a plan for now ("again", "next time") is not the past any more.
    not_ahead: bool = False


_NUMBER = [
    "#",
    "a",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "many",
    "several",
    "a few",
    "un",
    "una",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "varios",
    "muchos",
]
_PAST = re.compile(
    _words(
        [
            f"{n} {u} {w}"
            for n in _NUMBER
            for u in ("years", "year", "months")
            for w in ("ago", "free", "clean", "sober", "since", "without")
        ]
        + [f"hace {n} {u}" for n in _NUMBER for u in ("años", "año", "meses")]
        + [f"{n} {u} sin" for n in _NUMBER for u in ("años", "meses")]
        + [f"{n} {u} limpia" for n in _NUMBER for u in ("años", "meses")]
        + [f"{n} {u} limpio" for n in _NUMBER for u in ("años", "meses")]
        + [
            "when i was #",
            "when i was a teen",
            "when i was younger",
            "used to",
            "back in college",
            "back in high school",
            "back in school",
            "in my twenties",
            "in my teens",
            "cuando tenia #",
            "cuando era joven",
            "de adolescente",
            "de joven",
            "hace tiempo",
        ]
    )
)
_GOOD_NOW = re.compile(
    _words(
        [
            "now",
            "today",
            "these days",
            "nowadays",
            "doing great",
            "doing good",
            "doing well",
            "doing better",
            "happy",
            "grateful",
            "proud",
            "life got good",
            "life is good",
            "turned everything around",
            "turned my life around",
            "recovered",
            "recovery",
            "survivor",
            "hoy",
            "ahora",
            "feliz",
            "agradecida",
            "agradecido",
            "orgullosa",
            "orgulloso",
            "estoy bien",
            "me va bien",
            "estoy mejor",
            "sali adelante",
            "recuperada",
            "recuperado",
        ]
    )
)
_AHEAD = re.compile(
    _words(
        [
            "again",
            "tonight",
            "next time",
            "want to",
            "wanna",
            "going to",
            "gonna",
            "this time",
            "otra vez",
            "de nuevo",
            "esta noche",
            "la proxima",
            "quiero",
            "voy a",
            "esta vez",
            "i will",
            "ill",
            "gotta",
            "plan to",
            "ready to",
        ]
    )
)
_LAUGH = re.compile(
    _words(["lol", "lmao", "lmfao", "haha", "hahaha", "jaja", "jajaja", "jsjs", "xd"])
)
_MOVE_OR_OUTDOORS = re.compile(
    _words(
        [
            "move",
            "moving",
            "the move",
            "moving out",
            "new flat",
            "new apartment",
            "mudanza",
            "mudarme",
            "me mudo",
            "nos mudamos",
            "camping",
            "camp",
            "climbing",
            "hiking",
            "escalada",
            "campamento",
            "acampar",
            "garage sale",
            "donate",
            "donation",
            "donar",
            "carabiners",
            "tent",
            "boat",
            "sailing",
        ]
    )
)
_LAST_DAY = re.compile(
    _words(
        [
            "last day",
            "last shift",
            "ultimo dia",
            "ultimo turno",
            "farewell party",
            "retiring",
            "retirement",
            "me jubilo",
            "fiesta de despedida",
            "new job",
            "nuevo trabajo",
            "nueva empresa",
            "new company",
        ]
    )
)
_WORKPLACE = re.compile(
    _words(
        [
            "work",
            "the office",
            "job",
            "company",
            "team",
            "school",
            "class",
            "trabajo",
            "oficina",
            "chamba",
            "curro",
            "empresa",
            "escuela",
            "cole",
            "equipo",
            "colegas",
            "coworkers",
            "compañeros",
            "new job",
            "nuevo trabajo",
            "retiring",
            "me jubilo",
        ]
    )
)
_GAME = re.compile(
    _words(
        [
            "in the game",
            "video game",
            "the level",
            "secret level",
            "boss fight",
            "final boss",
            "speedrun",
            "minecraft",
            "fortnite",
            "respawn",
            "en el juego",
            "videojuego",
            "el nivel",
            "in the movie",
            "in the show",
            "in the book",
            "the character",
            "en la pelicula",
            "en la serie",
            "el personaje",
            "reading",
            "a thriller",
            "a novel",
            "the novel",
            "book club",
            "the series",
            "the episode",
            "the scene",
            "documentary",
            "podcast",
            "leyendo",
            "una novela",
            "la novela",
            "el libro",
            "club de lectura",
            "la serie",
            "el capitulo",
            "la escena",
            "documental",
            "the film",
            "la peli",
            "the movie",
        ]
    )
)
_HAIR = re.compile(
    _words(
        [
            "my hair",
            "my bangs",
            "my fringe",
            "my beard",
            "my nails",
            "el pelo",
            "el cabello",
            "el flequillo",
            "la barba",
            "las unas",
            "mi pelo",
            "mi cabello",
            "mi flequillo",
            "the grass",
            "el cesped",
            "coupons",
            "cupones",
            "onions",
            "cebolla",
            "vegetables",
            "verduras",
            "wood",
            "lena",
            "carbs",
            "sugar",
            "azucar",
        ]
    )
)
_WILL_TO_LIVE = re.compile(
    _words(
        [
            "ganas de vivir",
            "love my life",
            "i love life",
            "amo mi vida",
            "quiero vivir la vida",
            "glad to be alive",
            "feliz de estar viva",
            "feliz de estar vivo",
        ]
    )
)
# Means handed to someone for safekeeping: the safety plan's "making the surroundings safe".
_SAFEKEEP = re.compile(
    _words(
        [
            "to keep",
            "keeps my",
            "keep my",
            "keeping my",
            "holds my",
            "hold on to my",
            "locked away",
            "lock up my",
            "lock away",
            "locked up",
            "safe place",
            "bajo llave",
            "me las guarda",
            "me los guarda",
            "guarda mis",
            "guardar mis",
            "que las guarde",
            "que los guarde",
            "las guarda",
            "los guarda",
            "se queda con mis",
        ]
    )
)
_RATHER = re.compile(
    _words(
        [
            "rather die than",
            "antes muerta que",
            "antes muerto que",
            "prefiero morir antes que",
            "id rather die than",
        ]
    )
)
_LATE_WAKE = re.compile(
    _words(
        [
            "not wake up til",
            "not wake up till",
            "not wake up until",
            "no despertar hasta",
            "not wake up before",
            "no despertarme hasta",
        ]
    )
)

FRAMES = (
    Frame("recovery", _SELF, (_PAST, _GOOD_NOW), not_ahead=True),
    Frame("joke_threat", frozenset({"violence"}), (_LAUGH,)),
    Frame("moving_or_outdoors", frozenset({"preparatory"}), (_MOVE_OR_OUTDOORS,)),
    Frame("work_goodbye", frozenset({"preparatory", "plan", "intent"}), (_LAST_DAY, _WORKPLACE)),
    Frame(
        "game_or_fiction",
        frozenset({"method", "active_ideation", "preparatory", "attempt", "plan"}),
        (_GAME,),
        not_ahead=True,
    ),
    Frame("cutting_hair_or_food", frozenset({"self_harm", "method"}), (_HAIR,), not_ahead=True),
    Frame("will_to_live", frozenset({"passive_ideation"}), (_WILL_TO_LIVE,), not_ahead=False),
    Frame("safekeeping", frozenset({"preparatory", "method"}), (_SAFEKEEP,), not_ahead=True),
    Frame("rather_die_than", frozenset({"active_ideation", "passive_ideation"}), (_RATHER,)),
    Frame("late_wake", frozenset({"passive_ideation"}), (_LATE_WAKE,)),
)


def quieted(normalized: str) -> frozenset[str]:
    """Categories the message's frames quiet."""
    ahead = bool(_AHEAD.search(normalized))
    out: set[str] = set()
    for frame in FRAMES:
        if frame.not_ahead and ahead:
            continue
        if all(p.search(normalized) for p in frame.needs):
            out |= frame.quiets
    return frozenset(out)
