"""Language identification speed: sentences/s on one core, in-process, model loaded once.

    flock /tmp/newsflow-cpu.lock /work/venv/bin/python benchmarks/language.py \
        [--data ../shared/data/topics/sib200] [--passes 2]

Three figures, single-threaded:
* detector: ``pipeline.lang.detector.identify`` on every dev sentence of the 205
  SIB-200 folders (what the issue's 10,000 sentences/s target is about);
* stage on sentences: the registered stage function on a one-sentence Document
  (adds segments, hints and the pydantic Language object);
* stage on articles: the stage on the seed-size Arabic article (bounded sample plus
  the per-paragraph segment check), in articles/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One core: keep numpy's BLAS from spreading the small products over threads.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.lang.corpus import DEFAULT_SIB200, read_split  # noqa: E402
from pipeline.lang.detector import identify  # noqa: E402
from pipeline.lang.model import shipped_model  # noqa: E402
from pipeline.models import Document  # noqa: E402
from pipeline.resources import data_path  # noqa: E402
from pipeline.stages.language import language  # noqa: E402

SEED = Path(__file__).resolve().parent.parent / "pipeline" / "samples" / "aggregator-ar.txt"


def rate(items: list, func) -> float:
    """Items per second of ``func`` over ``items``."""
    started = time.perf_counter()
    for item in items:
        func(item)
    return len(items) / (time.perf_counter() - started)


def main(argv: list[str]) -> int:
    """Print model load time and sentences/s (detector and stage) and articles/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_SIB200)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    shipped_model()
    print(f"model load: {time.perf_counter() - started:.2f}s ({data_path('language', 'langid.npz')})")
    sentences = [t for texts in read_split(args.data, "dev").values() for t in texts]
    docs = [Document(id="b", text=t) for t in sentences]
    article = SEED.read_text("utf-8")
    print(f"{len(sentences)} dev sentences, mean {sum(map(len, sentences)) / len(sentences):.0f} chars; "
          f"article {len(article)} chars")
    for n in range(1, args.passes + 1):
        print(f"pass {n}: detector {rate(sentences, identify):,.0f} sentences/s; "
              f"stage {rate(docs, lambda d: language(d.model_copy())):,.0f} sentences/s; "
              f"stage on the seed article {rate([Document(id='a', text=article)] * 200, language):,.0f} articles/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
