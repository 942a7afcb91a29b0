"""Lexicons and trained model files shipped in ``pipeline/data``, loaded once per process.

Stages declare their heavy resources with :func:`resource`; the worker calls
:func:`preload` before forking so every child shares the loaded pages.
"""

from __future__ import annotations

import ctypes
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


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the OS (glibc ``malloc_trim``; no-op elsewhere).

    Loading a model decompresses and converts arrays that are freed again, but glibc keeps
    the freed pages: measured 12 MB of a worker's RSS after all models loaded, which every
    forked pool child would then carry too.
    """
    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None


def resource(name: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
    """Decorator: make a zero-argument loader load once per process (thread-safe) and register it."""

    def wrap(loader: Callable[[], T]) -> Callable[[], T]:
        cached = functools.lru_cache(maxsize=1)(loader)

        @functools.wraps(loader)
        def get() -> T:
            with _LOCK:
                if cached.cache_info().currsize:
                    return cached()
                value = cached()
                release_free_memory()  # once per load: the loader's temporaries are gone now
                return value

        _LOADERS[name] = get
        return get

    return wrap


def preload(stages: list[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """Load the resources of ``stages`` (all when None) now.

    Resources are named ``<stage>.<what>``. Returns the names loaded and, for each that
    failed, its error: the caller decides whether that is fatal (a worker logs it; the
    stage then dead-letters its articles with the same error instead of crashing).
    """
    import pipeline.stages  # noqa: F401  (registers the stages and their resources)

    loaded, failed = [], {}
    for name, loader in sorted(_LOADERS.items()):
        if stages is not None and name.split(".", 1)[0] not in stages:
            continue
        try:
            loader()
            loaded.append(name)
        except Exception as exc:  # reported to the operator, not swallowed
            failed[name] = f"{type(exc).__name__}: {exc}"
    return loaded, failed
