"""docker-compose.yml: the services a deployment relies on, with the right commands."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_redis_keeps_data_with_appendonly(compose):
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert compose["services"]["redis"]["volumes"]


def test_all_stages_and_entities_workers_split_the_queues(compose):
    main = compose["services"]["worker"]["command"]
    entities = compose["services"]["worker-entities"]["command"]
    assert main[:2] == ["newsflow", "worker"] and entities[:2] == ["newsflow", "worker"]
    served = main[main.index("--stages") + 1].split(",")
    assert "entities" not in served and {"clean", "language", "topics", "store"} <= set(served)
    assert entities[entities.index("--stages") + 1] == "entities"
    for name in ("worker", "worker-entities", "flower"):
        assert compose["services"][name]["environment"]["NEWSFLOW_BROKER_URL"].startswith("redis://redis:")


def test_flower_watches_the_same_app(compose):
    assert compose["services"]["flower"]["command"][:3] == ["celery", "-A", "workers.app"]


def test_console_runs_beside_flower_with_a_token_from_the_environment(compose):
    console = compose["services"]["console"]
    assert console["command"] == ["newsflow", "console", "--host", "0.0.0.0", "--port", "8000"]
    assert console["environment"]["NEWSFLOW_BROKER_URL"].startswith("redis://redis:")
    # Bound beyond loopback inside the container, so the token must come from the environment.
    assert console["environment"]["NEWSFLOW_CONSOLE_TOKEN"].startswith("${NEWSFLOW_CONSOLE_TOKEN")
    assert console["ports"] == ["127.0.0.1:8000:8000"]
    assert "flower" in compose["services"]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose v1 not installed")
def test_compose_file_validates():
    out = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
