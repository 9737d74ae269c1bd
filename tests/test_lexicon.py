"""The Swedish lexicon: validity, variants, compounds, user lists and the cache.

One lexicon is built per session into a temporary cache, from a copy of ``lexicons/``
with test words in the user lists; only the rebuild test builds a second time.
"""

from __future__ import annotations

import math
import pickle
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.exceptions import MissingDependency
from pipeline.normalise import lexicon as lexicon_module
from pipeline.normalise.lexicon import FLOOR_FREQ, Lexicon, LexiconError, fold, load, main

REPO_LEXICONS = Path(__file__).resolve().parent.parent / "lexicons"

ACCEPT = """\
# test words
zqxbrukarfika   # not in any source
afghanstan
"""
PROTECT = """\
# names
Soderberg
rsmhgruppen
"""


@pytest.fixture(scope="session")
def lexicon_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lexicons")
    shutil.copy(REPO_LEXICONS / "domain.tsv", folder / "domain.tsv")
    (folder / "user").mkdir()
    (folder / "user" / "accept.txt").write_text(ACCEPT, encoding="utf-8")
    (folder / "user" / "protect.txt").write_text(PROTECT, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def lex(lexicon_dir: Path, cache_dir: Path) -> Lexicon:
    started = time.perf_counter()
    built = load(lexicon_dir, cache_dir=cache_dir)
    print(f"\nlexicon built and loaded in {time.perf_counter() - started:.1f} s")
    return built


@pytest.fixture
def no_build(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if anything tries to build a cache."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache was rebuilt")

    monkeypatch.setattr(lexicon_module, "_write_cache", refuse)
    yield


# --------------------------------------------------------------------------- fold


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("Förvaltningen", "forvaltningen"),
        ("idé", "ide"),
        ("Åby", "aby"),
        ("ÅÄÖ", "aao"),
        ("Ærø", "aero"),
        ("naïve", "naive"),
        ("Łódź", "lodz"),
        ("a\u0308r", "ar"),  # decomposed (NFD) input
        ("ord", "ord"),
    ],
)
def test_fold(word: str, folded: str) -> None:
    assert fold(word) == folded


# --------------------------------------------------------------------------- validity


def test_variants_of_ar_put_är_first(lex: Lexicon) -> None:
    words = [word for word, _ in lex.variants("ar")]
    assert words[0] == "är"
    assert "år" in words
    assert "ar" in words  # the unit of area: a real word
    freqs = [freq for _, freq in lex.variants("ar")]
    assert freqs == sorted(freqs, reverse=True)


def test_variants_of_pa_are_only_på(lex: Lexicon) -> None:
    variants = lex.variants("pa")
    assert variants[0][0] == "på"
    assert "pa" not in [word for word, _ in variants]


@pytest.mark.parametrize("word", ["pa", "ocksa", "nagon", "anvandare", "tjanster", "manga"])
def test_diacritic_less_misspellings_are_not_words(lex: Lexicon, word: str) -> None:
    assert not lex.is_word(word)
    assert word not in [w for w, _ in lex.variants(word)]


def test_wordfreq_gives_frequencies_not_validity(lex: Lexicon) -> None:
    assert lex.freq("pa") > 1e-6
    assert lex.freq("på") > 100 * lex.freq("pa")
    assert lex.freq("zzzqqq") == 0.0


@pytest.mark.parametrize("word", ["ar", "for", "far", "har", "bor", "sa", "an", "vara"])
def test_short_look_alikes_stay_words(lex: Lexicon, word: str) -> None:
    assert lex.is_word(word)


def test_case_follows_hunspell(lex: Lexicon) -> None:
    assert lex.is_word("socialförvaltningen")
    assert lex.is_word("Socialförvaltningen")
    assert lex.is_word("SOCIALFÖRVALTNINGEN")
    assert lex.is_word("Göteborg")
    assert lex.is_word("GÖTEBORG")
    assert not lex.is_word("göteborg")
    assert lex.variants("goteborg")[0][0] == "Göteborg"


def test_forbidden_words_are_not_words(lex: Lexicon) -> None:
    assert lex.is_forbidden("aftonbladet")
    assert not lex.is_word("aftonbladet")
    assert lex.is_word("Aftonbladet")


def test_freq_falls_back_to_lower_case(lex: Lexicon) -> None:
    assert lex.freq("Förvaltningen") == lex.freq("förvaltningen") > 0


# --------------------------------------------------------------------------- domain lexicon


@pytest.mark.parametrize(
    "word",
    [
        "socialförvaltningen",
        "arbetsmarknadsförvaltningen",
        "stadsbyggnadsförvaltningens",
        "brukarutvecklare",
        "brukardelaktighet",
        "brukarorganisationerna",
        "invånardialog",
        "klarspråk",
        "tjänstepersoner",
        "försörjningsstöd",
        "utvecklingsgruppen",
        "volontärcenter",
        "träffen",
        "arvoden",
        "hälsodag",
        "Skåne",
        "Malmö",
        "Fontänhuset",
        "RSMH",
        "Schizofreniföreningen",
        "Arvsfonden",
        "Försäkringskassan",
    ],
)
def test_domain_words_are_words(lex: Lexicon, word: str) -> None:
    assert lex.is_word(word)
    assert (word, lex.freq(word)) in lex.variants(fold(word))


def test_domain_weight_raises_frequency(lex: Lexicon) -> None:
    # domain.tsv gives socialförvaltningen 5e-5; wordfreq alone has about 2e-6.
    assert math.isclose(lex.freq("socialförvaltningen"), 5e-5, rel_tol=0.03)
    assert lex.variants("tjanstepersoner")[0][0] == "tjänstepersoner"


def test_repo_domain_file_is_well_formed() -> None:
    path = REPO_LEXICONS / "domain.tsv"
    rows = lexicon_module._domain_rows(path)
    assert len(rows) > 300
    assert all(0 <= row.weight < 1e-3 for row in rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = [line.split("\t")[0] for line in lines if line and not line.startswith("#")]
    assert len(entries) == len(set(entries)), "a row is listed twice"


def test_malformed_domain_row_names_file_and_line(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "domain.tsv").write_text("word\tweight\nbra\t1e-6\nfel\tmycket\n", "utf-8")
    with pytest.raises(LexiconError, match=r"domain\.tsv:3: weight is not a number"):
        load(tmp_path, cache_dir=cache_dir)


# --------------------------------------------------------------------------- compounds


def test_compound_parts_follow_hunspell_flags(lex: Lexicon) -> None:
    assert lex.is_compound_part("förvaltnings")
    assert lex.is_compound_part("social")
    assert lex.is_compound_part("tjänste")
    assert not lex.is_word("tjänste")  # only inside compounds
    assert not lex.is_compound_part("förvaltning")  # joins with -s
    assert lex.is_compound_end("förvaltningen")
    assert lex.part_variants("tjanste")[0][0] == "tjänste"


def test_prefix_parts_and_split(lex: Lexicon) -> None:
    assert {"arbets", "arbetsmarknads"} <= set(lex.prefix_parts("arbetsmarknadsforvaltningen"))
    assert lex.prefix_parts("xyz") == ()
    assert lex.split_compound("arbetsmarknadsforvaltningen") == ("arbetsmarknads", "forvaltningen")
    assert lex.split_compound("tjanstepersonerna") == ("tjanste", "personerna")
    assert lex.split_compound("forvaltningen") == ()  # not a compound of known parts
    # Hunspell lets only COMPOUNDEND words end a compound: "råd" is none, so no "brukarrådet".
    assert lex.split_compound("brukarradet") == ()
    for folded in ("socialnamndens", "invanardialogen", "halsodagarna"):
        parts = lex.split_compound(folded)
        assert len(parts) >= 2
        assert "".join(parts) == folded


def test_frequent_keys_are_ranked(lex: Lexicon) -> None:
    two = lex.frequent_keys(2, 1e-4)
    assert two[0] == "ar"  # är, the most frequent word of all
    assert "pa" in two  # the key of på
    assert all(len(key) == 2 for key in two)
    assert len(lex.frequent_keys(2, 1e-6)) > len(two)


# --------------------------------------------------------------------------- user lists


def test_accepted_words_are_words(lex: Lexicon) -> None:
    assert lex.accepted == frozenset({"zqxbrukarfika", "afghanstan"})
    assert lex.is_word("zqxbrukarfika")
    assert lex.is_word("Zqxbrukarfika")
    assert lex.freq("zqxbrukarfika") == FLOOR_FREQ  # valid, but wordfreq never saw it
    assert lex.is_word("afghanstan")  # accepting overrides Hunspell's forbidden list
    assert not lex.is_forbidden("afghanstan")


def test_protected_words(lex: Lexicon) -> None:
    assert lex.protected == frozenset({"Soderberg", "rsmhgruppen"})
    assert lex.is_protected("Soderberg")
    assert not lex.is_protected("soderberg")
    assert lex.is_protected("Rsmhgruppen")
    assert lex.is_word("Soderberg")
    assert not lex.is_protected("Söderberg")


def test_editing_a_user_list_rebuilds(lex: Lexicon, lexicon_dir: Path, cache_dir: Path) -> None:
    accept = lexicon_dir / "user" / "accept.txt"
    original = accept.read_text(encoding="utf-8")
    try:
        accept.write_text(original + "zqxnyttord\n", encoding="utf-8")
        changed = load(lexicon_dir, cache_dir=cache_dir)
        assert changed.sha256 != lex.sha256
        assert changed.cache_path != lex.cache_path
        assert changed.is_word("zqxnyttord")
        assert not lex.is_word("zqxnyttord")
        assert lex.cache_path.exists()  # kept: undoing the edit needs no rebuild
    finally:
        accept.write_text(original, encoding="utf-8")
    assert load(lexicon_dir, cache_dir=cache_dir).sha256 == lex.sha256


# --------------------------------------------------------------------------- the cache


def test_cached_load_reuses_the_file(
    lex: Lexicon, lexicon_dir: Path, cache_dir: Path, no_build: None
) -> None:
    before = lex.cache_path.stat()
    lexicon_module._LOADED.clear()  # measure a real read, not the in-process memo
    started = time.perf_counter()
    again = load(lexicon_dir, cache_dir=cache_dir)
    print(f"\ncached load: {time.perf_counter() - started:.2f} s")
    after = again.cache_path.stat()
    assert again.cache_path == lex.cache_path
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert again.sha256 == lex.sha256
    assert again.variants("pa") == lex.variants("pa")
    assert load(lexicon_dir, cache_dir=cache_dir) is again  # kept in the process


def test_corrupt_cache_is_not_trusted(tmp_path: Path) -> None:
    broken = tmp_path / "lexicon-broken.marshal"
    broken.write_bytes(b"\xff\x00garbage")
    assert lexicon_module._read_cache(broken, "0" * 64) is None
    assert lexicon_module._read_cache(tmp_path / "missing.marshal", "0" * 64) is None


def test_pickling_sends_a_reference_not_the_data(lex: Lexicon, no_build: None) -> None:
    data = pickle.dumps(lex)
    assert len(data) < 2000
    copy = pickle.loads(data)
    assert copy.sha256 == lex.sha256
    assert copy.is_word("socialförvaltningen")


def test_missing_hunspell_is_reported(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINUTES_HUNSPELL_DIR", str(tmp_path))
    with pytest.raises(MissingDependency, match="hunspell-sv"):
        load(cache_dir=cache_dir)


def test_command_line_show(
    lex: Lexicon,
    lexicon_dir: Path,
    cache_dir: Path,
    capsys: pytest.CaptureFixture[str],
    no_build: None,
) -> None:
    assert main(["--lexicons", str(lexicon_dir), "--cache", str(cache_dir), "show", "pa"]) == 0
    out = capsys.readouterr().out
    assert "pa: word=False" in out
    assert "('på'," in out
