"""Accuracy measures shared by the tests and the evaluation harness."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein


def collapse(text: str) -> str:
    """Whitespace runs (line breaks and form feeds included) as one space.

    >>> collapse("Närvarande\\n\\n  Karin\\fLund ")
    'Närvarande Karin Lund'
    """
    return " ".join(text.split())


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate: edit distance over reference length, whitespace collapsed.

    >>> round(cer("Narvarande", "Närvarande"), 2)
    0.1
    """
    ref, hyp = collapse(reference), collapse(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(hyp, ref) / len(ref)


def word_accuracy(hypothesis: str, reference: str) -> float:
    """Share of reference words matched after aligning whitespace tokens by edit distance.

    >>> round(word_accuracy("Vi behover veta", "Vi behöver veta"), 3)
    0.667
    """
    ref, hyp = reference.split(), hypothesis.split()
    if not ref:
        return 1.0 if not hyp else 0.0
    errors = Levenshtein.distance(hyp, ref)
    return max(0.0, 1.0 - errors / len(ref))
