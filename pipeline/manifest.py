"""What a run keeps between runs, under ``OUT/.cache``, so a re-run redoes only what changed.

::

    OUT/.cache/manifest.json          the last run: one entry per source, and the files it wrote
    OUT/.cache/lock                   held while a run writes under OUT
    OUT/.cache/documents/<key>.json   one extracted document, OCR included
    OUT/.cache/pages/<key>.json       one OCR'd page, kept until its document is whole
    OUT/.cache/cleaned/<key>.json     one document's normalised text, changes and meetings

A key is a sha256 over everything that decides the result it names. A document's
and a page's: the source's content hash, the pipeline's version and the code of
its extraction stage, the versions of Tesseract, Poppler and the parsing
libraries, and the OCR settings. A cleaned document's: its document key, its
name, the pipeline's version and code, the lexicons' hash, the run's
normalisation settings, the batch's evidence (its clean documents) and the
entries of the user lists that can touch its text. So a changed lexicon
re-normalises from the cached documents without OCR, a word taught with
``minutes lexicon`` re-normalises only the documents it can change, an edited
source is extracted again, and a renamed one is not.

Every file is written whole (temporary file, then rename) by the main process;
an entry that cannot be read back as the record it should hold is a miss.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePath
from types import NoneType, UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from pipeline import __version__
from pipeline.exceptions import UsageError
from pipeline.export import write_atomic
from pipeline.extract.ocr import OcrOptions
from pipeline.normalise import Normalizer
from pipeline.teach import Reach

T = TypeVar("T")

CACHE_DIR = ".cache"
FORMAT = 1
"""Bump when what the cache files hold changes shape."""

DOCUMENTS, PAGES, CLEANED = "documents", "pages", "cleaned"
SECTIONS = (DOCUMENTS, PAGES, CLEANED)

_PACKAGE = Path(__file__).resolve().parent
_EXTRACT_CODE = ("extract/*.py", "_exec/*.py", "records.py")
_EXTRACT_LIBRARIES = ("pdfplumber", "pdfminer.six", "pillow", "charset-normalizer")
_CLEAN_LIBRARIES = ("ftfy", "rapidfuzz", "spacy", "wordfreq")
_KEY_FILE = re.compile(r"[0-9a-f]{64}\.json")
# The temporary files write_atomic (tempfile.mkstemp) leaves behind when a run is killed.
_TEMP_FILE = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


# --------------------------------------------------------------------------- keys


def digest(*parts: str) -> str:
    """sha256 over ``parts``, each length-prefixed so no two lists of parts collide.

    >>> digest("a", "bc") == digest("ab", "c")
    False
    """
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        sha.update(f"{len(data)}:".encode())
        sha.update(data)
    return sha.hexdigest()


@functools.cache
def code_fingerprint(patterns: tuple[str, ...] = ("**/*.py",)) -> str:
    """Hash of the package's source files matching ``patterns``.

    ``__version__`` alone would let a checkout whose code changed reuse results
    the old code produced.
    """
    files = sorted({path for pattern in patterns for path in _PACKAGE.glob(pattern)})
    return digest(*(f"{p.relative_to(_PACKAGE).as_posix()}\n{p.read_text('utf-8')}" for p in files))


def _library_versions(names: Iterable[str]) -> str:
    versions = []
    for name in names:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} none")
    return ", ".join(versions)


@functools.cache
def _program_version(program: str, flag: str) -> str:
    exe = shutil.which(program)
    if exe is None:
        return f"{program} none"
    try:
        proc = subprocess.run([exe, flag], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return f"{program} unknown"
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
    return output.splitlines()[0] if output else f"{program} unknown"


def lexicons_digest(normalizer: Normalizer) -> str:
    """Hash of the lexicon, the OCR confusion table and the context model a run uses.

    The user lists are left out: what they do to a document is keyed per document
    (:func:`user_digest`), so teaching a word re-normalises only where it can matter.
    """
    confusions = normalizer.lexicon.lexicon_dir / "confusions.tsv"
    try:
        table = hashlib.sha256(confusions.read_bytes()).hexdigest()
    except OSError:
        table = "none"
    context = normalizer.context
    model = context.cache_path.name if context and context.cache_path else "none"
    return digest(normalizer.lexicon.base_sha256, table, model)


def user_digest(entries: Iterable[tuple[str, str]], *texts: str) -> str:
    """Hash of the user-list ``(list, word)`` entries that can change how a document with
    these texts is normalised (:class:`pipeline.teach.Reach`): the rest cannot."""
    reach = Reach(*texts)
    return digest(*(f"{name}\t{word}" for name, word in sorted(entries) if reach.touches(word)))


@dataclass(frozen=True, slots=True)
class Keys:
    """The cache keys of one run's settings."""

    extract: str
    """Salt of every document and page key."""
    clean: str = ""
    """Salt of every cleaned-document key; set by :meth:`for_cleaning`."""

    @classmethod
    def for_extraction(cls, ocr: OcrOptions) -> Keys:
        extract = digest(
            "extract",
            str(FORMAT),
            __version__,
            code_fingerprint(_EXTRACT_CODE),
            _library_versions(_EXTRACT_LIBRARIES),
            _program_version("tesseract", "--version"),
            _program_version("pdftoppm", "-v"),
            ocr.language,
            str(ocr.dpi),
            str(ocr.psm),
        )
        return cls(extract=extract)

    def for_cleaning(
        self, *, lexicons: str, threshold: float | None, protect: Iterable[str]
    ) -> Keys:
        """These keys, able to name cleaned documents too."""
        clean = digest(
            "clean",
            str(FORMAT),
            __version__,
            code_fingerprint(),
            _library_versions(_CLEAN_LIBRARIES),
            lexicons,
            repr(threshold),
            *sorted(set(protect)),
        )
        return dataclasses.replace(self, clean=clean)

    def document(self, sha256: str) -> str:
        return digest("document", self.extract, sha256)

    def page(self, sha256: str, number: int) -> str:
        return digest("page", self.extract, sha256, str(number))

    def cleaned(self, document: str, source: str, evidence: str, user: str) -> str:
        """The key of a cleaned document; ``user`` is its :func:`user_digest`."""
        if not self.clean:
            raise ValueError("keys made for extraction only")
        return digest("cleaned", self.clean, document, source, evidence, user)


# --------------------------------------------------------------------------- records as JSON


def encode(value: object) -> Any:
    """A record (dataclasses of str, numbers, enums, dates, paths, tuples) as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot store a {type(value).__name__}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def decode(tp: Any, data: Any) -> Any:
    """The inverse of :func:`encode`, guided by the type; ``TypeError``/``ValueError`` if it
    does not fit (a cache file from a record that has since changed shape)."""
    origin = get_origin(tp)
    if origin is Union or origin is UnionType:
        args = get_args(tp)
        if data is None and NoneType in args:
            return None
        for arg in args:
            if arg is not NoneType:
                try:
                    return decode(arg, data)
                except (TypeError, ValueError, KeyError):
                    continue
        raise TypeError(f"{data!r} fits none of {tp!r}")
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(data, list):
            raise TypeError(f"expected a list for {tp!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], item) for item in data)
        if len(args) != len(data):
            raise TypeError(f"expected {len(args)} items for {tp!r}")
        return tuple(decode(arg, item) for arg, item in zip(args, data, strict=True))
    if origin is dict:
        _, value_type = get_args(tp)
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {tp!r}")
        return {str(key): decode(value_type, item) for key, item in data.items()}
    if tp is Any:
        return data
    if not isinstance(tp, type):
        raise TypeError(f"cannot read {tp!r}")
    if dataclasses.is_dataclass(tp):
        names = [f.name for f in dataclasses.fields(tp) if f.init]
        if not isinstance(data, dict) or set(data) != set(names):
            raise TypeError(f"{tp.__name__} has other fields now")
        hints = _hints(tp)
        return tp(**{name: decode(hints[name], data[name]) for name in names})
    if issubclass(tp, Enum):
        return tp(data)
    if tp is dt.date and isinstance(data, str):
        return dt.date.fromisoformat(data)
    if issubclass(tp, PurePath) and isinstance(data, str):
        return tp(data)
    if tp is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if tp in (int, str, bool) and type(data) is tp:
        return data
    raise TypeError(f"{data!r} is not a {tp.__name__}")


def _dumps(value: Any, *, indent: int | None = None) -> str:
    # ASCII: a lone surrogate from a damaged name or PDF cannot break the write.
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(
        value, ensure_ascii=True, sort_keys=True, indent=indent, separators=separators
    )


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True, slots=True)
class Entry:
    """What the last run made of one source."""

    sha256: str | None
    status: str
    error: str | None = None
    document: str | None = None
    """Key of the extracted document in ``documents/``."""
    cleaned: str | None = None
    """Key of the cleaned document in ``cleaned/``."""
    text: str | None = None
    """Its text output, relative to OUT."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """The index of the last run over an output folder."""

    complete: bool = False
    """False while a run is writing (or after one was killed)."""
    pipeline: str = __version__
    lexicons: str = ""
    sources: dict[str, Entry] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    """Text outputs (relative to OUT) runs wrote and may have to remove when their source goes."""


class Store:
    """The cache and manifest of one output folder; only the main process writes here."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.root = out / CACHE_DIR

    def _path(self, section: str, key: str) -> Path:
        return self.root / section / f"{key}.json"

    def load(self, section: str, key: str, tp: type[T], **extra: Any) -> T | None:
        """The record stored under ``key``, or ``None`` (missing, unreadable, outdated).

        ``extra`` supplies fields left out when it was saved.
        """
        try:
            stored = json.loads(self._path(section, key).read_text("utf-8"))
            if stored.get("format") != FORMAT or stored.get("key") != key:
                return None
            value: T = decode(tp, {**stored["value"], **extra})
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None
        return value

    def save(self, section: str, key: str, value: object, *, omit: tuple[str, ...] = ()) -> None:
        """Store a record under ``key``, without the fields in ``omit``."""
        encoded = encode(value)
        for name in omit:
            encoded.pop(name, None)
        stored = {"format": FORMAT, "key": key, "value": encoded}
        write_atomic(self._path(section, key), _dumps(stored) + "\n")

    def prune(self, live: Mapping[str, set[str]]) -> None:
        """Remove the cache entries not in ``live`` (by section); other files are left alone."""
        for section in SECTIONS:
            folder = self.root / section
            if not folder.is_dir():
                continue
            keep = live.get(section, set())
            for path in folder.iterdir():
                if _KEY_FILE.fullmatch(path.name) and path.stem not in keep:
                    path.unlink(missing_ok=True)

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def read_manifest(self) -> Manifest:
        """The last run's manifest; an empty one if there is none or it cannot be read."""
        try:
            data = json.loads(self.manifest_path.read_text("utf-8"))
            manifest: Manifest = decode(Manifest, data)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return Manifest()
        return manifest

    def write_manifest(self, manifest: Manifest) -> None:
        write_atomic(self.manifest_path, _dumps(encode(manifest), indent=1) + "\n")

    def sweep(self) -> None:
        """Remove temporary files a killed run left in the folders runs write to."""
        folders = [self.out]
        for top in (self.out / "text", self.root):
            folders += [Path(folder) for folder, _, _ in os.walk(top)]
        for folder in folders:
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                path = folder / name
                if _TEMP_FILE.fullmatch(name) and path.is_file() and not path.is_symlink():
                    path.unlink(missing_ok=True)


@contextmanager
def locked(out: Path) -> Iterator[Store]:
    """The store of ``out``, held exclusively: two runs must not write one folder at once."""
    store = Store(out)
    store.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(store.root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise UsageError(f"another minutes run is writing to {out}") from error
        yield store
    finally:
        os.close(fd)  # closing releases the lock; so does the kernel if we are killed
