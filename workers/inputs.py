"""Reading articles from files, directories and stdin for the CLI, with precise error locations."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pipeline.errors import InvalidArticle
from pipeline.intake import decode_bytes, parse_article
from pipeline.models import ArticleIn

TEXT_SUFFIXES = {".txt": "text/plain", ".text": "text/plain", ".html": "text/html", ".htm": "text/html"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUPPORTED = sorted({*TEXT_SUFFIXES, *JSON_SUFFIXES})


@dataclass
class InputItem:
    """One article read from an input, or the error that stops it, located as ``file:line``."""

    where: str
    article: ArticleIn | None = None
    error: str | None = None


class StdinBuffer:
    """Stdin read once, so a batch can be validated fully before anything is enqueued."""

    def __init__(self) -> None:
        self._data: bytes | None = None

    def read(self) -> bytes:
        """All of stdin (read on first use)."""
        if self._data is None:
            self._data = sys.stdin.buffer.read()
        return self._data


def expand_paths(paths: list[str]) -> Iterator[str]:
    """Files to read, in order: directories are walked (sorted), ``-`` is stdin."""
    for raw in paths:
        if raw == "-":
            yield raw
            continue
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED:
                    yield str(child)
        else:
            yield raw


def read_items(paths: list[str], *, max_bytes: int, stdin: StdinBuffer | None = None) -> Iterator[InputItem]:
    """Every article in ``paths`` as an :class:`InputItem`, streaming line by line for JSONL."""
    stdin = stdin or StdinBuffer()
    for path in expand_paths(paths):
        if path == "-":
            yield from _read_blob("<stdin>", stdin.read(), None, max_bytes)
            continue
        p = Path(path)
        if not p.exists():
            yield InputItem(path, error="no such file or directory")
            continue
        suffix = p.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            yield from _read_jsonl(path, max_bytes)
        elif suffix == ".json":
            yield _one(path, p.read_bytes(), max_bytes)
        elif suffix in TEXT_SUFFIXES:
            yield _text(path, p.read_bytes(), TEXT_SUFFIXES[suffix], max_bytes, source_file=p.name)
        else:
            yield InputItem(path, error=f"unsupported file type {suffix or '(none)'}: use {', '.join(SUPPORTED)}")


def _read_blob(where: str, data: bytes, content_type: str | None, max_bytes: int) -> Iterator[InputItem]:
    head = data.lstrip()[:1]
    if head == b"{":
        for lineno, line in enumerate(data.splitlines(), 1):
            if line.strip():
                yield _one(f"{where}:{lineno}", line, max_bytes)
    else:
        kind = content_type or ("text/html" if head == b"<" else "text/plain")
        yield _text(where, data, kind, max_bytes, source_file=None)


def _read_jsonl(path: str, max_bytes: int) -> Iterator[InputItem]:
    with open(path, "rb") as handle:
        for lineno, line in enumerate(handle, 1):
            if line.strip():
                yield _one(f"{path}:{lineno}", line, max_bytes)


def _one(where: str, data: bytes, max_bytes: int) -> InputItem:
    try:
        return InputItem(where, article=parse_article(data, max_bytes=max_bytes))
    except InvalidArticle as exc:
        return InputItem(where, error=str(exc))


def _text(where: str, data: bytes, content_type: str, max_bytes: int, source_file: str | None) -> InputItem:
    try:
        body = decode_bytes(data, what="file")
        meta = {"file": source_file} if source_file else {}
        article = parse_article({"body": body, "content_type": content_type, "metadata": meta}, max_bytes=max_bytes)
        return InputItem(where, article=article)
    except InvalidArticle as exc:
        return InputItem(where, error=str(exc))


def dumps_line(obj: dict) -> str:
    """One compact JSON line (UTF-8 kept readable)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
