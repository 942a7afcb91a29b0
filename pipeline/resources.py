"""Lexicons and trained model files shipped in ``pipeline/data``, loaded once per process.

Stages declare their heavy resources with :func:`resource`; the worker calls
:func:`preload` before forking so every child shares the loaded pages.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

DATA_DIR = Path(__file__).resolve().parent / "data"

_LOADERS: dict[str, Callable[[], object]] = {}
_LOCK = threading.RLock()  # re-entrant: a loader may use another resource


def data_path(*parts: str) -> Path:
    """Path of a file shipped in ``pipeline/data``."""
    return DATA_DIR.joinpath(*parts)


def resource(name: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
    """Decorator: make a zero-argument loader load once per process (thread-safe) and register it."""

    def wrap(loader: Callable[[], T]) -> Callable[[], T]:
        cached = functools.lru_cache(maxsize=1)(loader)

        @functools.wraps(loader)
        def get() -> T:
            with _LOCK:
                return cached()

        _LOADERS[name] = get
        return get

    return wrap


def preload() -> list[str]:
    """Load every registered resource now; returns their names."""
    import pipeline.stages  # noqa: F401  (registers the stages and their resources)

    for loader in _LOADERS.values():
        loader()
    return sorted(_LOADERS)
