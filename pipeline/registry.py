"""The stage registry: each stage is a pure ``Document -> Document`` function with a version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pipeline.errors import UnknownStage
from pipeline.models import Document

STAGE_ORDER: tuple[str, ...] = ("clean", "language", "entities", "topics")

StageFunc = Callable[[Document], Document]


@dataclass(frozen=True)
class Stage:
    """A registered stage: its name, component version and function.

    ``implemented`` is False for a stage whose NLP has not landed yet; the runner then
    records ``not_implemented`` in provenance and the stage leaves its fields empty.
    """

    name: str
    version: str
    func: StageFunc
    implemented: bool = True
    note: str | None = None


_REGISTRY: dict[str, Stage] = {}


def register(name: str, version: str, *, implemented: bool = True, note: str | None = None):
    """Decorator: register ``func`` as the stage ``name`` at ``version``."""
    if name not in STAGE_ORDER:
        raise UnknownStage(f"cannot register stage {name!r}", hint=f"stages are {', '.join(STAGE_ORDER)}")

    def wrap(func: StageFunc) -> StageFunc:
        _REGISTRY[name] = Stage(name, version, func, implemented, note)
        return func

    return wrap


def get_stage(name: str) -> Stage:
    """The registered stage called ``name``."""
    _load_builtin_stages()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownStage(
            f"unknown stage {name!r}", hint=f"choose from {', '.join(STAGE_ORDER)}"
        ) from None


def all_stages() -> list[Stage]:
    """Every stage in pipeline order."""
    return [get_stage(name) for name in STAGE_ORDER]


def parse_stage_list(spec: str | list[str] | None) -> list[str]:
    """Names from a comma list (or list), validated, deduplicated, in pipeline order."""
    if spec is None:
        return list(STAGE_ORDER)
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise UnknownStage("empty stage list", hint=f"name one or more of {', '.join(STAGE_ORDER)}")
    for name in names:
        get_stage(name)
    return [n for n in STAGE_ORDER if n in names]


def pipeline_through(spec: str | list[str] | None) -> list[str]:
    """The pipeline prefix that ends at the last stage named in ``spec``.

    Every stage needs its predecessors (language needs clean text), so
    ``--stages language`` runs clean then language.
    """
    names = parse_stage_list(spec)
    last = max(STAGE_ORDER.index(n) for n in names)
    return list(STAGE_ORDER[: last + 1])


def _load_builtin_stages() -> None:
    # Importing the package registers the built-in stages exactly once.
    import pipeline.stages  # noqa: F401
