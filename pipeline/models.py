"""Pydantic contracts: what producers send and what flows between the stages.

``ArticleIn`` is the producer's input. ``Document`` is what every stage takes and
returns. Both travel as JSON only; ``schema_version`` lets consumers detect changes.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.errors import StageError  # noqa: F401  (re-exported: part of the contract)

SCHEMA_VERSION = 1

ID_PATTERN = re.compile(r"^[A-Za-z0-9._\-:/]{1,128}$")
ID_RULE = "1 to 128 characters: letters, digits and . _ - : /"

ContentType = Literal["text/plain", "text/html"]


def check_article_id(value: str) -> str:
    """Return ``value`` if it is a valid article id, else raise ``ValueError`` naming the rule."""
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValueError(f"id {value!r} is invalid: ids are {ID_RULE}")
    return value


class ArticleIn(BaseModel):
    """One article as a producer submits it. Only ``body`` is required.

    Unknown fields are rejected (put producer extras in ``metadata``), so a typo such
    as ``titel`` is an error instead of silently lost data.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    body: str = Field(description="The article: plain text or HTML, as a Unicode string.")
    content_type: ContentType = Field(
        default="text/plain", description="text/plain or text/html."
    )
    id: str | None = Field(default=None, description=f"The producer's own id: {ID_RULE}.")
    url: str | None = None
    title: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    language_hint: str | None = Field(
        default=None, description="ISO 639 code the producer believes the article is in."
    )
    metadata: dict[str, str] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        return None if value is None else check_article_id(value)

    @field_validator("body")
    @classmethod
    def _usable_body(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError(
                "body contains NUL bytes: binary data is not accepted, send decoded text or HTML"
            )
        if not value.strip():
            raise ValueError("body is empty: send the article text or HTML")
        return value


class Language(BaseModel):
    """The detected language of a document."""

    code: str = Field(description="ISO 639-1 where one exists, else ISO 639-3.")
    name: str
    confidence: float = Field(ge=0.0, le=1.0)
    script: str | None = Field(default=None, description="ISO 15924, e.g. Arab, Latn.")
    reliable: bool = False
    alternatives: list[dict] = Field(default_factory=list)
    variant: str | None = None
    segments: list[dict] = Field(default_factory=list)
    decided_by: str | None = None


class Entity(BaseModel):
    """A named-entity mention; ``start``/``end`` are character offsets into ``Document.text``."""

    text: str
    label: Literal["PERSON", "ORG", "LOC", "DATE", "MISC"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    normalized: str | None = None
    canonical_id: str | None = None
    value: str | None = Field(default=None, description="ISO value for resolved DATEs.")


class EntitySummary(BaseModel):
    """One unique entity of a document: its mentions merged (issue #5)."""

    name: str = Field(description="Canonical name (English where known), else the normalised mention.")
    label: Literal["PERSON", "ORG", "LOC", "DATE", "MISC"]
    canonical_id: str | None = Field(
        default=None, description="iso3166:XX, geonames:N or wikidata:Q..., when known."
    )
    count: int = Field(ge=1, description="Number of mentions in the text.")
    first_offset: int = Field(ge=0, description="Offset of the first mention in Document.text.")
    salience: float = Field(ge=0.0, le=1.0, description="In title or lead, and frequency.")
    mentions: list[str] = Field(default_factory=list, description="Distinct normalised mentions.")


class Topic(BaseModel):
    """One topic from the documented taxonomy (IPTC Media Topics), with a score in [0, 1]."""

    code: str
    label: str
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(
        default_factory=list,
        description="Lexicon terms that matched for this topic (as written in the lexicon), most frequent first.",
    )


class RemovedBlock(BaseModel):
    """Text that cleaning took out of the article, kept for audit."""

    text: str
    reason: str
    rule: str
    split_off: bool = Field(
        default=False,
        description="True when the block is a whole appended article re-submitted on its own.",
    )
    split_id: str | None = None


class StageRun(BaseModel):
    """Provenance of one stage run: which component, which version, how long."""

    stage: str
    version: str
    ms: float
    status: Literal["ok", "not_implemented"] = "ok"
    note: str | None = None


class Duplicate(BaseModel):
    """Duplicate keys of the clean text and what the store knew about them."""

    content_key: str
    signature: str | None = None
    seen_before: bool = False
    near_duplicate_of: str | None = None


class Document(BaseModel):
    """What flows between the stages: the article, its clean text and its enrichments."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    id: str
    derived_from: str | None = Field(
        default=None, description="Parent id when this article was split out of another."
    )
    derived_ids: list[str] = Field(
        default_factory=list, description="Ids of articles split out of this one."
    )
    url: str | None = None
    title: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    language_hint: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    content_type: ContentType = "text/plain"
    body: str | None = Field(
        default=None,
        description="The raw input; the clean stage consumes it and clears it to keep messages small.",
    )
    text: str = ""
    removed: list[RemovedBlock] = Field(default_factory=list)
    language: Language | None = None
    entities: list[Entity] = Field(default_factory=list)
    entity_summary: list[EntitySummary] = Field(
        default_factory=list, description="Unique entities, most salient first (entities stage)."
    )
    topics: list[Topic] = Field(default_factory=list)
    duplicate: Duplicate | None = None
    provenance: list[StageRun] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return check_article_id(value)

    @classmethod
    def from_article(cls, article: ArticleIn, article_id: str) -> "Document":
        """Start a Document for ``article`` under ``article_id`` (nothing processed yet)."""
        fields = article.model_dump(exclude={"id"})
        return cls(id=article_id, **fields)

    def stages_done(self) -> list[str]:
        """Names of the stages that have run on this document, in order."""
        return [run.stage for run in self.provenance]


class DeadLetter(BaseModel):
    """A permanent failure as kept in the dead-letter stream ``newsflow:dead``."""

    article_id: str | None
    stage: str
    error_type: str
    code: str
    message: str
    traceback: str = ""
    attempts: int = 1
    failed_at: datetime
    payload: str = Field(description="The original message payload, as JSON text.")
    remaining: list[str] = Field(
        default_factory=list, description="Stages that were still to run after the failed one."
    )
