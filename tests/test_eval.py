"""The evaluation harness: damage generators, metrics, baselines and the report (no OCR)."""

from __future__ import annotations

import csv
import doctest
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import ftfy
import pytest
from conftest import FIXTURES, ROOT

from pipeline.metrics import collapse, word_accuracy

sys.path.insert(0, str(ROOT))
from benchmarks import damage, evaluate, run_eval
from benchmarks.damage import OcrRates, ocr_confusions

SAMPLE = (FIXTURES / "m01_scan_pdf.txt").read_text("utf-8")


def test_docstring_examples() -> None:
    for module in (damage, evaluate):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("kind", sorted(damage.TEXT_DAMAGES))
def test_text_damage_is_seeded_and_keeps_lines(kind: str) -> None:
    generate = damage.TEXT_DAMAGES[kind]
    damaged = generate(SAMPLE, 7)
    assert damaged == generate(SAMPLE, 7)
    assert damaged != SAMPLE
    assert len(damaged.split("\n")) == len(SAMPLE.split("\n"))
    for clean, bad in zip(SAMPLE.split("\n"), damaged.split("\n"), strict=True):
        assert bool(clean.strip()) == bool(bad.strip())


def test_simple_damages_do_what_they_say() -> None:
    assert damage.strip_diacritics("Åsa, Ärla och Östen på idéstadiet") == (
        "Asa, Arla och Osten pa idestadiet"
    )
    assert damage.mojibake("förvaltning") == "fÃ¶rvaltning"
    assert damage.mojibake_double("förvaltning") == "fÃƒÂ¶rvaltning"
    clean = "Vi ses på mötet i Åby.\nSocialförvaltningen"
    assert ftfy.fix_text(damage.mojibake(clean)) == clean
    assert ftfy.fix_text(damage.mojibake_double(clean)) == clean


def test_ocr_confusions_follow_their_rates() -> None:
    every_time = OcrRates(
        letters={"ö": (("6", 1),), "ä": (("&", 1),)},
        l_before_diacritic=1.0,
        l_glyphs=(("I", 1),),
        merge_after_bullet=1.0,
        merge_short=0.0,
    )
    assert ocr_confusions("• Vi behöver lösningar\n◦ Det är bra", 3, every_time) == (
        "e Vibeh6ver I6sningar\no Det&r bra"
    )
    never = OcrRates(
        letters={}, l_elsewhere=0, m_as_rn=0, merge_after_bullet=0, merge_short=0, bullet_rate=0
    )
    assert ocr_confusions(SAMPLE, 3, never) == SAMPLE
    assert ocr_confusions(SAMPLE, 1) != ocr_confusions(SAMPLE, 2)


def test_default_ocr_rates_resemble_seed_000() -> None:
    letters = "\n".join(["å ä ö"] * 2000)
    damaged = ocr_confusions(letters, 11, replace(damage.SEED_000_RATES, merge_short=0))
    outcomes = Counter(damaged.split())
    assert not outcomes["å"] + outcomes["ä"] + outcomes["ö"]  # none survived in seed 000
    lost = outcomes["a"] + outcomes["o"]
    assert 0.72 < lost / 6000 < 0.80  # 210 of 279 in seed 000
    assert {"d", "&", "é", "6"} <= set(outcomes)
    merged = ocr_confusions("\n".join(["• Vi kan bli bättre."] * 1000), 5).count("Vikan")
    assert 350 < merged < 450  # 7 of 17 such list items in seed 000


def test_unhyphenate_restores_the_text_behind_every_layout() -> None:
    with (FIXTURES / "corpus.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["layout"]]
    assert rows
    for row in rows:
        layout = (FIXTURES / row["layout"]).read_text("utf-8")
        original = (FIXTURES / row["fixture"]).read_text("utf-8")
        joined = damage.unhyphenate(layout, original)
        assert collapse(joined) == collapse(original)
        assert joined.count("\n") == layout.count("\n")


def test_word_accuracy_and_cer_agree_with_the_pipeline_metrics() -> None:
    truth = "Vi behöver veta vad andra gör.\nNästa möte"
    given = "Vi behover veta vad andra gor.\nNasta mote"
    tally = evaluate.score(given, truth, {"input": given})["input"]
    assert tally.words == 8
    assert tally.word_accuracy == pytest.approx(word_accuracy(given, truth))
    assert tally.cer == pytest.approx(4 / len(collapse(truth)))


def test_over_corrections_are_words_the_input_had_right() -> None:
    truth = "Mejla Karin på karin@ex.se före 12 maj om mötet"
    given = "Mejla Karin pa karin@ex.se fore 12 maj om motet"
    output = "Mejla Kårin på karin@ex.se före 12 maj öm mötet"
    tally = evaluate.score(given, truth, {"minutes": output})["minutes"]
    assert tally.input_correct == 6
    assert tally.over_corrections == 2
    assert tally.protected == {"name": 1}
    assert tally.examples == ["Karin → Kårin", "om → öm"]
    assert tally.over_corrections_per_2000 == pytest.approx(2000 * 2 / 6)


def test_error_classes_and_what_was_fixed() -> None:
    truth = "• Vi behöver nya lösningar för samordnare i städerna"
    given = "e Vibehover nya l6sningar for samord- nare i stÃ¤derna"
    output = "• Vibehover nya lösningar för samord- nare i städerna"
    tally = evaluate.score(given, truth, {"out": output})["out"]
    assert dict(tally.damaged) == {
        "glyph": 2,  # the bullet, l6sningar
        "merge/split": 2,
        "diacritic": 1,
        "hyphenation": 1,
        "encoding": 1,
    }
    assert dict(tally.fixed) == {"glyph": 2, "diacritic": 1, "encoding": 1}
    assert tally.over_corrections == 0
    # Specks read as letters or marks are noise, not merges with the word beside them.
    noisy = ["for", "yr", "foreningarna", ",", "nu"]
    assert evaluate.damage_classes(["för", "föreningarna", "nu"], noisy) == {
        0: "diacritic",
        1: "diacritic",
    }


def test_naive_restorer_puts_back_the_most_frequent_spelling() -> None:
    assert evaluate.naive_restore("pa") == "på"
    assert evaluate.naive_restore("Ar det sa?\nPA MOTET") == "Är det så?\nPÅ MÖTET"
    untouched = "karin.oberg@ex.se https://ex.se/oppna 12:30 Nils-Erik"
    assert evaluate.naive_restore(untouched) == untouched


def _tiny_corpus(tmp_path: Path) -> tuple[Path, Path]:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "a.txt").write_text(
        "Möte på förvaltningen\n\n• Vi går igenom året.\nAnna Öberg, FMN\n", "utf-8"
    )
    (fixtures / "corpus.csv").write_text("raw,fixture,form,layout\na.raw,a.txt,text,\n", "utf-8")
    texts = tmp_path / "texts"
    (texts / "dev").mkdir(parents=True)
    (texts / "dev" / "b.txt").write_text("Här är en kort text för att prova.\n", "utf-8")
    return fixtures, texts


def test_report_is_written_with_every_figure(tmp_path: Path) -> None:
    fixtures, texts = _tiny_corpus(tmp_path)
    out = tmp_path / "results" / "eval.json"
    systems = {**evaluate.SYSTEMS, "minutes": evaluate.naive_restore}
    report = evaluate.run(
        out=out,
        ocr=False,
        fixtures=fixtures,
        texts=texts,
        shared=tmp_path / "nowhere",
        systems=systems,
    )
    assert json.loads(out.read_text("utf-8")) == report
    assert set(report["skipped"]) == {"test", "tesseract", "gold"}
    assert list(report["results"]) == ["fixtures", "dev"]
    assert report["sources"]["fixtures"] == {"path": str(fixtures), "documents": 1, "words": 11}
    kinds = report["results"]["dev"]
    assert list(kinds) == [*damage.TEXT_DAMAGES, "all"]
    figures = kinds["stripped"]["systems"]
    assert list(figures) == ["input", "ftfy", "naive", "minutes"]
    assert figures["input"]["word_accuracy"] < figures["naive"]["word_accuracy"]
    assert figures["input"]["error_reduction"] == 0
    for key in ("cer", "over_corrections_per_2000", "protected_over_corrections", "classes"):
        assert key in figures["minutes"]
    assert set(figures["minutes"]["classes"]) == set(evaluate.CLASSES)
    table = evaluate.markdown(report)
    assert "| stripped |" in table and "**dev** (1 text, 8 words)" in table


def test_check_names_each_missed_target(tmp_path: Path) -> None:
    fixtures, texts = _tiny_corpus(tmp_path)

    def broken(text: str) -> str:
        raise ValueError("no lexicon")

    report = evaluate.run(
        out=None,
        ocr=False,
        fixtures=fixtures,
        texts=texts,
        shared=tmp_path / "nowhere",
        systems={**evaluate.SYSTEMS, "minutes": broken},
    )
    failures = report["check"]["failures"]
    assert not report["check"]["passed"]
    assert any(f.startswith("dev/stripped: word accuracy") for f in failures)
    assert "dev/all: crashed on 4 document(s)" in failures
    assert report["results"]["dev"]["all"]["systems"]["minutes"]["crashes"][0] == (
        "b.txt: ValueError: no lexicon"
    )
    met = {"minutes": {"word_accuracy": 0.995}, "input": {"word_accuracy": 0.7}}
    assert evaluate.check({"dev": {"stripped": {"systems": met}}}) == []


def test_command_line_quick_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real normaliser is measured by `make eval`; here only the wiring.
    monkeypatch.setitem(evaluate.SYSTEMS, "minutes", evaluate.naive_restore)
    out = tmp_path / "eval.json"
    status = run_eval.main(["--quick", "--no-ocr", "--check", "--out", str(out)])
    assert status == 1  # the naive floor misses the targets
    report = json.loads(out.read_text("utf-8"))
    assert report["quick"] is True
    assert report["results"]["fixtures"]["stripped"]["documents"] == evaluate.QUICK_DOCUMENTS
