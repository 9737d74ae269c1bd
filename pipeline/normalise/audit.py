"""Derive the audit trail of a line-preserving fix by comparing its input and output."""

from __future__ import annotations

import difflib
import re

from pipeline.records import Change

_TOKEN = re.compile(r"\S+")


def diff_changes(stage: str, before: str, after: str, confidence: float = 1.0) -> list[Change]:
    """Word-level changes between two texts with the same lines.

    >>> [(c.line, c.column, c.original, c.replacement) for c in
    ...  diff_changes("encoding", "Vi ses\\npÃ¥ mÃ¶tet", "Vi ses\\npå mötet")]
    [(2, 1, 'pÃ¥ mÃ¶tet', 'på mötet')]
    """
    old_lines, new_lines = before.split("\n"), after.split("\n")
    if len(old_lines) != len(new_lines):
        raise ValueError(f"stage {stage!r} changed the number of lines")
    changes: list[Change] = []
    for number, (old, new) in enumerate(zip(old_lines, new_lines, strict=True), start=1):
        if old == new:
            continue
        old_tokens = list(_TOKEN.finditer(old))
        new_tokens = list(_TOKEN.finditer(new))
        matcher = difflib.SequenceMatcher(
            a=[m.group() for m in old_tokens], b=[m.group() for m in new_tokens], autojunk=False
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            start = old_tokens[i1].start() if i1 < len(old_tokens) else len(old)
            original = old[start : old_tokens[i2 - 1].end()] if i2 > i1 else ""
            replacement = new[new_tokens[j1].start() : new_tokens[j2 - 1].end()] if j2 > j1 else ""
            changes.append(
                Change(
                    stage=stage,
                    line=number,
                    column=start + 1,
                    original=original,
                    replacement=replacement,
                    confidence=confidence,
                )
            )
    return changes
