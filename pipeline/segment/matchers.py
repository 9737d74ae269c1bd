"""spaCy rules: titles and roles on attendee lines, decisions and action points in prose.

Only spaCy's Swedish tokenizer (``spacy.blank("sv")``) is used, with a
sentencizer, an :class:`~spacy.pipeline.EntityRuler` and
:class:`~spacy.matcher.Matcher` rules; nothing is downloaded. Rules match on a
token extension ``_.minutes_fold`` (lower case, diacritics dropped) so OCR text that
lost its ``å ä ö`` reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from pipeline.segment.model import Role
from pipeline.segment.text import fold, words

TITLES = (
    "brukarutvecklare",
    "utvecklare",
    "projektledare",
    "samordnare",
    "enhetschef",
    "verksamhetschef",
    "utvecklingschef",
    "avdelningschef",
    "förvaltningschef",
    "socialchef",
    "sektionschef",
    "chef",
    "ordförande",
    "vice ordförande",
    "styrelseledamot",
    "ledamot",
    "ersättare",
    "sekreterare",
    "generalsekreterare",
    "kassör",
    "handläggare",
    "socialsekreterare",
    "sjuksköterska",
    "undersköterska",
    "kurator",
    "psykolog",
    "läkare",
    "överläkare",
    "kommunikatör",
    "verksamhetsledare",
    "föreståndare",
    "koordinator",
    "praktikant",
    "volontär",
    "kommunalråd",
    "ombudsman",
    "personligt ombud",
    "konsulent",
    "utredare",
    "strateg",
    "controller",
    "medarbetare",
    "tjänsteperson",
    "revisor",
    "brukarrevisor",
    "kamratstödjare",
    "representant",
    "medlem",
    "rektor",
    "diakon",
)
"""Job and board titles written before (or instead of) an organisation."""

_TITLE_SUFFIXES = (
    "samordnare|utvecklare|ledare|chef|ordförande|ledamot|sekreterare|handläggare|konsulent"
    "|kommunikatör|strateg|sköterska|terapeut|pedagog|assistent|rådgivare|utredare"
    "|koordinator|stödjare|revisor|ombud|representant"
)
_TITLE_COMPOUND = f"^[a-z]{{2,}}(?:{fold(_TITLE_SUFFIXES)})$"
"""Compound titles not in the table (``inflytandesamordnare``) end like one that is."""

ROLE_WORDS: dict[Role, tuple[str, ...]] = {
    Role.NOTE_TAKER: (
        "antecknar",
        "antecknare",
        "sekreterare",
        "sekr",
        "protokollförare",
        "för anteckningar",
        "mötessekreterare",
    ),
    Role.CHAIR: ("ordförande", "ordf", "mötesordförande", "mötesledare", "leder mötet"),
    Role.ABSENT: ("frånvarande", "förhinder", "ej närvarande", "anmält förhinder"),
}
"""Words that, in brackets after a name, give the person's role in the meeting."""

DECISION_VERBS = ("beslutar", "beslutade", "beslöt", "bestämmer", "bestämde", "beslutat", "bestämt")
ACTION_VERBS = (
    "lovar",
    "lovade",
    "ansvarar",
    "ansvarade",
    "skickar",
    "ordnar",
    "samordnar",
    "undersöker",
    "kollar",
    "kontrollerar",
    "bokar",
    "kallar",
    "sammanställer",
    "ringer",
    "återkommer",
    "bjuder",
    "mejlar",
    "mailar",
    "meddelar",
    "kontaktar",
    "förbereder",
    "presenterar",
    "gör",
    "fixar",
    "skriver",
    "uppdaterar",
    "planerar",
    "åtar",
)
"""Verbs that make ``NAME verb …`` an action point owned by NAME."""

_TAKE_PARTICLES = ("fram", "med", "upp", "kontakt", "reda", "hand", "ansvar", "över")
NAME_TOKEN = re.compile(r"^(?:[A-ZÅÄÖÉÜØÆ][\w'’]*(?:-[A-ZÅÄÖÉÜØÆ]?[\w'’]+)*|[A-ZÅÄÖÉÜ]\.)$")
_NAME_PARTICLES = frozenset({"von", "af", "de", "van", "der", "da", "del", "la", "bin", "al"})
NOT_NAMES = words(
    fold(
        "Vi Det Den De Dem Han Hon Man Alla Många Några Flera Ingen Någon Var Vem Vad Hur "
        "Och Men Så Då Nu Här Där Även Också Sedan Efter Inför Under Till Från Med Om För "
        "Gruppen Mötet Rådet Nämnden Styrelsen Staden Kommunen Förvaltningen Föreningen "
        "Föreningarna Projektet Arbetsgruppen Tema Beslut Övrigt Nästa Jag Du Ni"
    )
)
"""Capitalised words that start sentences but never name a person."""


FOLD = "minutes_fold"
"""Token extension: the token folded (lower case, no diacritics)."""
NAME = "minutes_name"
"""Token extension: whether the token can be part of a person's name."""


def _is_name_part(token: Token) -> bool:
    return bool(NAME_TOKEN.match(token.text)) and fold(token.text) not in NOT_NAMES


@dataclass(frozen=True, slots=True)
class Rules:
    """The pipeline and matchers, built once per process."""

    nlp: Language
    names: Matcher
    decisions: Matcher
    actions: Matcher


@lru_cache(maxsize=1)
def rules() -> Rules:
    """Build the blank Swedish pipeline with its rules (cached; takes well under a second)."""
    Token.set_extension(FOLD, getter=lambda t: fold(t.text), force=True)
    Token.set_extension(NAME, getter=_is_name_part, force=True)
    nlp = spacy.blank("sv")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(_ruler_patterns())  # type: ignore[attr-defined]

    names = Matcher(nlp.vocab)
    names.add(
        "NAME",
        [[{"_": {NAME: True}}, {"_": {NAME: True}, "OP": "*"}]],
        greedy="LONGEST",
    )

    decisions = Matcher(nlp.vocab)
    also = {"_": {FOLD: {"IN": ["ocksa", "aven", "dessutom", "gemensamt", "enhalligt"]}}}
    decisions.add(
        "DECISION",
        [
            [{"IS_ALPHA": True}, _fold_in(DECISION_VERBS), {**also, "OP": "?"}, _fold("att")],
            [_fold_in(("beslutades", "beslutas", "bestamdes", "bestams")), _fold("att")],
            [_fold("beslut"), {"ORTH": ":"}],
            [_fold("kom"), _fold("overens"), {**_fold("om"), "OP": "?"}, _fold("att")],
            [_fold("enades"), _fold("om"), _fold("att")],
        ],
    )

    actions = Matcher(nlp.vocab)
    name = {"_": {NAME: True}}
    actions.add(
        "ACTION",
        [
            [name, _fold_in(ACTION_VERBS)],
            [name, _fold("tar"), _fold_in(_TAKE_PARTICLES)],
            [name, _fold("ska"), {"IS_ALPHA": True, "IS_TITLE": False}],
            [name, _fold("kommer"), _fold("att")],
        ],
    )
    return Rules(nlp, names, decisions, actions)


def _fold(word: str) -> dict[str, Any]:
    return {"_": {FOLD: fold(word)}}


def _fold_in(words: tuple[str, ...]) -> dict[str, Any]:
    return {"_": {FOLD: {"IN": sorted({fold(w) for w in words})}}}


def _ruler_patterns() -> list[dict[str, Any]]:
    patterns: list[dict[str, Any]] = []
    for role, phrases in ROLE_WORDS.items():
        for phrase in phrases:
            inner = [_fold(w) for w in phrase.split()]
            patterns.append(
                {
                    "label": "ROLE",
                    "id": role.value,
                    "pattern": [
                        {"ORTH": {"IN": ["(", "["]}},
                        *inner,
                        {"ORTH": ".", "OP": "?"},
                        {"ORTH": {"IN": [")", "]"]}},
                    ],
                }
            )
    for title in TITLES:
        patterns.append({"label": "TITLE", "pattern": [_fold(w) for w in title.split()]})
    patterns.append(
        {
            "label": "TITLE",
            "pattern": [{"IS_LOWER": True, "_": {FOLD: {"REGEX": _TITLE_COMPOUND}}}],
        }
    )
    return patterns


def parse(text: str) -> Doc:
    """Run the rule pipeline over ``text``."""
    return rules().nlp(text)


def leading_name(doc: Doc | Span) -> Span | None:
    """The person's name a line opens with (capitalised words and initials), if any."""
    matches = [(s, e) for _, s, e in rules().names(doc) if s == 0]
    if not matches:
        return None
    start, end = max(matches, key=lambda m: m[1] - m[0])
    return doc[start:end]


def decision_sentences(doc: Doc) -> set[int]:
    """Start offsets (in tokens) of the sentences of ``doc`` that record a decision."""
    return {doc[start].sent.start for _, start, _ in rules().decisions(doc)}


def action_owners(doc: Doc) -> Iterator[tuple[Span, tuple[str, ...]]]:
    """Sentences that assign an action, with the names of their owners in order.

    ``Elin och Leila Karimi ansvarar för …`` gives ``("Elin", "Leila Karimi")``.
    """
    by_sentence: dict[int, list[str]] = {}
    sentences: dict[int, Span] = {}
    for _, start, _ in rules().actions(doc):
        sentence = doc[start].sent
        sentences[sentence.start] = sentence
        owners = by_sentence.setdefault(sentence.start, [])
        for owner in _owners_before(doc, start + 1, sentence.start):
            if owner not in owners:
                owners.append(owner)
    for key in sorted(sentences):
        yield sentences[key], tuple(by_sentence[key])


def _owners_before(doc: Doc, verb: int, floor: int) -> list[str]:
    """Walk left from the verb over names joined by ``och`` and commas."""
    names: list[list[str]] = [[]]
    i = verb - 1
    while i >= floor:
        token = doc[i]
        if token._.get(NAME) or (token.text in _NAME_PARTICLES and names[-1]):
            names[-1].insert(0, token.text)
        elif token._.get(FOLD) in ("och", "samt") or token.text == ",":
            if not names[-1]:
                break
            names.append([])
        else:
            break
        i -= 1
    return [" ".join(n) for n in reversed(names) if n]
