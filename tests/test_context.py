"""The context model: restoring lost diacritics of ambiguous words from their neighbours."""

from __future__ import annotations

import math
import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.normalise import context
from pipeline.normalise.context import (
    NUMBER,
    ContextModel,
    build_context,
    evaluate,
    fold,
    html_blocks,
    load_context,
    sentences,
    text_blocks,
)

# Sentences in the register of meeting minutes, written for this test (not taken from
# the help text the model counts, nor from the evaluation corpus). A bracketed word is
# a target: the test strips all diacritics and asks the model to restore it from its
# folded neighbours. Minority senses are included on purpose (bor, sa, far, våra, år).
MINUTES = """
Det [är] viktigt att vi [får] fler medlemmar i [år].
Vi [bör] se över [våra] rutiner.
Hon [bor] i Malmö.
Vad tycker ni [här]?
Styrelsen [har] beslutat att höja avgiften.
Årsmötet hålls i mars varje [år].
Föreningen bildades för 25 [år] sedan.
Ordföranden [får] i uppdrag att kontakta kommunen.
Kassören redovisade att ekonomin [är] god.
Vi [har] fått in tre offerter.
Frågan bordläggs till nästa möte [så] att alla hinner läsa underlaget.
Hon [sa] att budgeten inte räcker.
Renoveringen blev dyrare [än] väntat.
Ett bidrag [för] renovering av lokalen beviljades.
Mötet [går] vidare till nästa punkt.
Vi vill [gå] igenom budgeten en gång till.
Beslutet fattades [före] sommaren.
Medlemmar under 18 års [ålder] betalar halv avgift.
Det [är] [våra] medlemmar som [är] viktigast.
Medlemmarna ska [vara] informerade i god tid.
Det kan [vara] svårt att hitta nya lokaler.
Han [bor] kvar i föreningens lägenhet.
Styrelsen [bör] ta fram en plan för underhållet.
[Här] följer kassörens rapport.
Alla närvarande [får] yttra sig.
Min [far] var medlem i föreningen i många [år].
[Så] beslutades.
Mer [än] hälften av medlemmarna röstade ja.
[För] att spara pengar byter vi leverantör.
Arbetet [går] enligt plan.
Nästa [år] firar föreningen sitt jubileum.
Budgeten för [år] 2024 godkändes.
Hur [går] det med renoveringen?
Ingen [har] anmält förhinder.
Det [är] svårt att [få] tag på hantverkare.
Ärendet [får] vänta till nästa möte.
[Än] så länge finns det pengar kvar.
Kommunen [har] lovat att återkomma [så] snart som möjligt.
Styrelsen tar sig [an] frågan.
Sekreteraren [sa] att protokollet [är] klart.
Tack för [våra] år tillsammans i styrelsen.
Avgiften [har] varit oförändrad i tre [år].
Mötet beslutade att [gå] vidare med förslaget.
Valberedningen [bör] få mer tid.
Vi träffas [här] igen om en månad.
Kassören [får] ansvar [för] medlemsregistret.
Han [är] ny i styrelsen sedan i [år].
Föreningen [har] cirka 300 medlemmar som [bor] i området.
Mötet [är] beslutsmässigt.
Förra [året] gick föreningen med överskott.
Vi [har] fått ett nytt erbjudande från banken.
Kassören [bör] redovisa kostnaderna varje kvartal.
Styrelsen [får] besluta om mindre inköp.
Många [är] nöjda med den nya lokalen.
Lokalen [är] bokad [för] hela dagen.
Det [är] tre [år] sedan stadgarna ändrades.
[Våra] stadgar behöver ses över.
De som [bor] nära lokalen hjälper till med städningen.
Ordföranden tackade [för] ett gott samarbete under [året].
[Här] ska det byggas en ny lekplats.
Hon [har] varit medlem sedan 1998.
Vi [får] inte glömma att söka bidrag.
Det [går] inte att boka lokalen i juni.
Ingen [ska] [gå] hem utan att ha röstat.
Beslutet [är] fattat och [går] inte att ändra.
Medlemsavgiften [är] 200 kronor per [år].
Det finns fler medlemmar [än] förra [året].
Han [sa] att han ville avgå.
Vi behöver [få] in fler förslag [före] mötet.
Han [har] tackat nej till omval.
Det [bör] [vara] klart [före] jul.
Vi [har] sett över [våra] avtal.
Alla [var] överens om att [gå] vidare.
"""


def _targets() -> Iterator[tuple[str, str, str | None, str | None, str | None]]:
    """(truth, folded word, left, right, left2) for every bracketed word, as OCR leaves them."""
    for line in MINUTES.strip().splitlines():
        tokens = re.findall(r"\[?\w+\]?", line)
        damaged = [fold(t.strip("[]")) for t in tokens]
        for i, token in enumerate(tokens):
            if token.startswith("["):
                yield (
                    token.strip("[]").lower(),
                    damaged[i],
                    damaged[i - 1] if i else None,
                    damaged[i + 1] if i + 1 < len(tokens) else None,
                    damaged[i - 2] if i >= 2 else None,
                )


@pytest.fixture(scope="session")
def model() -> ContextModel:
    """The model from the default cache (built once if missing: about ten seconds)."""
    loaded = load_context()
    if loaded.stats.get("tokens", 0) < 100_000:
        pytest.skip("Swedish help text not installed (Debian package libreoffice-help-sv)")
    return loaded


def test_fold_is_the_lexicon_fold() -> None:
    assert fold("Våra") == "vara"
    assert fold("ÄR") == fold("år") == "ar"
    assert fold("Överens") == "overens"
    assert fold("idé") == "ide"


def test_minutes_sentences_beat_the_most_frequent_spelling(model: ContextModel) -> None:
    right = baseline = total = 0
    wrong: list[str] = []
    for truth, folded, left, right_word, left2 in _targets():
        guess = model.predict(folded, left, right_word, left2)
        spellings = model.spellings(folded) or (guess,)
        common = max(spellings, key=lambda w: model._unigrams.get(w, 0))
        total += 1
        right += guess == truth
        baseline += common == truth
        if guess != truth:
            wrong.append(f"{left} [{folded}] {right_word}: {guess} for {truth}")
    accuracy, base = right / total, baseline / total
    assert total >= 90
    # Measured 84 % against 71 % for the most frequent spelling (81 % against 64 % from the
    # LibreOffice help alone); the misses are rare senses the help text hardly has (bor,
    # sa, far, våra, år after an unseen word), listed on failure.
    assert accuracy >= 0.78, wrong
    assert accuracy >= base + 0.08, (accuracy, base, wrong)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Det ar viktigt att vi far fler medlemmar i ar.", ["är", "får", "år"]),
        ("Styrelsen har beslutat att hoja avgiften.", ["har"]),
        ("Har foljer kassorens rapport.", ["här"]),
        ("Foreningen bildades for 25 ar sedan.", ["för", "år"]),
        ("Det kan vara svart att hitta lokaler.", ["vara", "svårt"]),
    ],
)
def test_decides_in_context(model: ContextModel, sentence: str, expected: list[str]) -> None:
    tokens = re.findall(r"\w+", sentence)
    chosen = [
        model.predict(
            fold(t),
            tokens[i - 1] if i else None,
            tokens[i + 1] if i + 1 < len(tokens) else None,
            tokens[i - 2] if i >= 2 else None,
        )
        for i, t in enumerate(tokens)
        if model.ambiguous(fold(t))
    ]
    assert chosen == expected


def test_logprob_is_a_smoothed_distribution_over_the_group(model: ContextModel) -> None:
    assert model.ambiguous("ar") and model.ambiguous("vara") and not model.ambiguous("och")
    spellings = model.spellings("ar")
    assert {"är", "år"} <= set(spellings)
    for left, right, left2 in [("i", None, "medlemmar"), (None, None, None), ("xyzzy", ",", None)]:
        logs = [model.logprob(w, left, right, left2) for w in spellings]
        assert all(math.isfinite(v) and v <= 0 for v in logs)
        assert sum(math.exp(v) for v in logs) == pytest.approx(1.0)
    # A spelling the model never saw still gets a finite, small share.
    assert -40 < model.logprob("ár", "i", None) < model.logprob("år", "i", None)
    # Upper case and damaged neighbours are folded; numbers are one class.
    assert model.logprob("År", "I", ".") == model.logprob("år", "i", None)
    assert model.logprob("år", "2024", None) == model.logprob("år", NUMBER, None)
    assert model.logprob("år", "Två", None) == model.logprob("år", NUMBER, None)
    # No preference where the model knows one spelling only.
    assert model.logprob("och", "kaffe", "kakor") == 0.0


def test_learning_a_document_shifts_decisions() -> None:
    fresh = load_context()
    before = fresh.logprob("våra", "av", "kolonilotter") - fresh.logprob(
        "vara", "av", "kolonilotter"
    )
    fresh.learn(
        "Protokoll fört vid styrelsemöte\n"
        "Ordföranden hälsade alla välkomna. Flera av våra medlemmar har hört av sig.\n"
        "Två av våra lokaler behöver målas om. En av våra revisorer avgår i vår.\n"
        "Styrelsen tackar alla av våra funktionärer för ett gott arbete.\n"
    )
    after = fresh.logprob("våra", "av", "kolonilotter") - fresh.logprob(
        "vara", "av", "kolonilotter"
    )
    assert after > before
    assert fresh.predict("vara", "av", "kolonilotter") == "våra"


def test_learning_adds_new_spellings_and_survives_pickling() -> None:
    fresh = load_context()
    assert not fresh.ambiguous("kolonilott")
    fresh.learn("En kolonilott ska skötas. Vi tog en kolonilött.")
    assert fresh.ambiguous("kolonilott")
    copy = pickle.loads(pickle.dumps(fresh))
    assert copy.logprob("kolonilött", "en", None) == fresh.logprob("kolonilött", "en", None)


def test_held_out_evaluation_counts_decisions(model: ContextModel) -> None:
    tallies = evaluate(model, [("det", "är", "tre", "år", "sedan"), ("vi", "har", "möte")])
    assert tallies["*"].tokens == tallies["ar"].tokens + tallies["har"].tokens == 3
    assert tallies["*"].model == 3


# --------------------------------------------------------------------------- text


def test_html_blocks_keep_running_text_only() -> None:
    page = (
        "<html><head><title>x</title><script>var a = 1;</script></head><body>"
        "<header>Meny</header><h1>Ändra <span class='emph'>tabell</span></h1>\n"
        "<p>Du kan\nändra &aring;r och&nbsp;datum.</p><pre>Sub Main</pre>"
        "<div class='bascode'><div>Dim x</div></div><p>Klart.</p></body></html>"
    )
    assert html_blocks(page) == ["Ändra tabell", "Du kan ändra år och datum.", "Klart."]


def test_sentences_split_at_full_stops_before_capitals() -> None:
    assert list(
        sentences("Mötet öppnades kl. 18.30 av ordf. Kalle. Han sa t.ex. att § 5 utgår!")
    ) == [
        ["mötet", "öppnades", "kl", NUMBER, "av", "ordf"],
        ["kalle"],
        ["han", "sa", "t.ex", "att", NUMBER, "utgår"],
    ]


def test_text_blocks_join_wrapped_lines_and_split_headings() -> None:
    text = (
        "§ 4 Ekonomi\nKassören redovisade att det\när gott om pengar i kas-\nsan.\n\n"
        "Beslut\nAtt godkänna."
    )
    assert list(text_blocks(text)) == [
        "§ 4 Ekonomi",
        "Kassören redovisade att det är gott om pengar i kassan.",
        "Beslut",
        "Att godkänna.",
    ]


# --------------------------------------------------------------------------- cache


@pytest.fixture
def small_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_text(
        "Det är tre år sedan. Vi har våra rutiner. Det kan vara bra.\n", encoding="utf-8"
    )
    (source / "b.html").write_text("<p>Här är det år 2020.</p>", encoding="utf-8")
    monkeypatch.setattr(context, "_default_sources", lambda: (source,))
    return source


def test_cache_is_reused_and_rebuilt_when_a_source_changes(
    tmp_path: Path, small_sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    compile_ = context._compile

    def counting(*args: object, **kwargs: object) -> object:
        builds.append(1)
        return compile_(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(context, "_compile", counting)
    cache = tmp_path / "cache"
    first = load_context(cache)
    second = load_context(cache)
    assert len(builds) == 1
    assert first.cache_path == second.cache_path and first.cache_path is not None
    assert first.cache_path.parent == cache
    assert second.stats["sentences"] == 4
    assert second.predict("ar", "tre", "sedan") == "år"

    (small_sources / "a.txt").write_text("Vi ses här.\n", encoding="utf-8")
    third = load_context(cache)
    assert len(builds) == 2
    assert third.cache_path != first.cache_path
    assert not first.cache_path.exists()  # the stale cache was removed


def test_build_context_writes_into_the_given_folder(tmp_path: Path, small_sources: Path) -> None:
    path = build_context(tmp_path / "out", sources=[small_sources / "a.txt"])
    assert path.parent == tmp_path / "out" and path.is_file()
    assert path.name.startswith("context-")
