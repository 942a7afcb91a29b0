"""Named benchmark corpora: the seed, SaudiNewsNet, BBC News, or any JSONL of ArticleIn."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from pipeline.models import ArticleIn

SHARED = Path(__file__).resolve().parents[2] / "shared"
BUNDLED_SEED = Path(__file__).resolve().parents[1] / "pipeline" / "samples" / "aggregator-ar.txt"


def load(name: str, limit: int) -> list[ArticleIn]:
    """Up to ``limit`` articles of corpus ``name`` (seed | saudinewsnet | bbc | PATH.jsonl | DIR)."""
    if name == "seed":
        path = SHARED / "samples" / "aggregator-iraq-talks-ar.txt"
        body = (path if path.exists() else BUNDLED_SEED).read_text(encoding="utf-8")
        return [ArticleIn(body=body, id=f"seed-{i}") for i in range(limit)]
    if name == "saudinewsnet":
        return _saudinewsnet(SHARED / "data" / "raw" / "ar" / "saudinewsnet", limit)
    if name == "bbc":
        return _jsonl(SHARED / "data" / "topics" / "en" / "bbc-news.jsonl", limit, text_field="text")
    path = Path(name)
    if path.is_dir():
        return _saudinewsnet(path, limit)
    if path.suffix in (".jsonl", ".ndjson"):
        return _jsonl(path, limit)
    raise SystemExit(f"unknown corpus {name!r}: use seed, saudinewsnet, bbc, a .jsonl file or a directory of zips")


def _saudinewsnet(folder: Path, limit: int) -> list[ArticleIn]:
    out: list[ArticleIn] = []
    for archive in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if not member.endswith(".json"):
                    continue
                for i, row in enumerate(json.loads(zf.read(member))):
                    content = (row.get("content") or "").strip()
                    if len(content) < 200:
                        continue
                    out.append(ArticleIn(body=content, title=row.get("title") or None,
                                         source=row.get("source") or None, id=f"snn-{archive.stem}-{i}"))
                    if len(out) >= limit:
                        return out
    if not out:
        raise SystemExit(f"no SaudiNewsNet articles under {folder}")
    return out


def _jsonl(path: Path, limit: int, text_field: str = "body") -> list[ArticleIn]:
    out = []
    with open(path, encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            if not line.strip():
                continue
            row = json.loads(line)
            if text_field != "body":
                row = {"body": row[text_field], "title": row.get("title"), "id": f"{path.stem}-{i}"}
            out.append(ArticleIn.model_validate(row))
            if len(out) >= limit:
                break
    return out
