"""Character tables for the normaliser, kept apart from the code that uses them."""

from __future__ import annotations

# UTF-8 bytes of Swedish letters read as cp1252 (or latin-1, which puts C1
# controls where cp1252 has punctuation). ftfy repairs these when a whole text
# is consistently damaged, but leaves them in text that also holds correct
# letters, and a lone "Ã¥" at the start of a text; "Ã" followed by one of
# these never occurs in Swedish, so the table is safe to apply anywhere.
SWEDISH_MOJIBAKE: dict[str, str] = {
    "Ã¥": "å",
    "Ã¤": "ä",
    "Ã¶": "ö",
    "Ã…": "Å",
    "Ã\x85": "Å",
    "Ã„": "Ä",
    "Ã\x84": "Ä",
    "Ã–": "Ö",
    "Ã\x96": "Ö",
    "Ã©": "é",
    "Ã‰": "É",
    "Ã\x89": "É",
    "Ã¼": "ü",
    "Ãœ": "Ü",
    "Ã\x9c": "Ü",
    "Ã¦": "æ",
    "Ã¸": "ø",
}

# DOS code page 437/850 bytes of Swedish letters read as cp1252: "för" saved by
# an old DOS program and opened as Windows text reads "f”r".
DOS_AS_CP1252: dict[str, str] = {
    "†": "å",  # 0x86
    "„": "ä",  # 0x84
    "”": "ö",  # 0x94
    "\u008f": "Å",  # 0x8F is undefined in cp1252; latin-1 keeps it as a control
    "Ž": "Ä",  # 0x8E
    "™": "Ö",  # 0x99
    "‚": "é",  # 0x82
    "\u0081": "ü",  # 0x81
}

# List bullets as Tesseract reads them at the start of a line: "•" comes out
# as "e", "«" or "*", the hollow "◦" as "o". Level 1 and 2 of a list.
OCR_BULLETS: dict[str, int] = {
    "e": 1,
    "«": 1,
    "»": 1,
    "»«": 1,
    "*": 1,
    "©": 1,
    "¢": 1,
    "°": 2,
    "o": 2,
}
BULLET_MARKS: dict[int, str] = {1: "•", 2: "◦"}
