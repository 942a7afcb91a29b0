"""The house rule: pipeline never imports Celery, kombu or Redis (or torch)."""

import subprocess
import sys


def test_importing_the_whole_pipeline_pulls_no_transport():
    code = (
        "import pkgutil, importlib, sys, pipeline\n"
        "for m in pkgutil.walk_packages(pipeline.__path__, 'pipeline.'):\n"
        "    if '.training' in m.name: continue\n"
        "    importlib.import_module(m.name)\n"
        "from pipeline.runner import process_article\n"
        "from pipeline.models import ArticleIn\n"
        "process_article(ArticleIn(body='Hello.'))\n"
        "bad = sorted({n.split('.')[0] for n in sys.modules} & {'celery', 'kombu', 'redis', 'fakeredis', 'torch'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
