"""The newsflow command, driven in-process (embedded mode)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from workers.cli import main
from workers.connection import reset_clients

SAMPLES = Path(__file__).resolve().parents[2] / "pipeline" / "samples"


@pytest.fixture
def run(clean_env):
    """Invoke ``newsflow ...`` and return the result (stderr kept apart)."""
    reset_clients()
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    yield invoke
    reset_clients()


def _jsonl(tmp_path, rows, name="batch.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("command", [[], ["process"], ["submit"], ["worker"], ["get"], ["watch"], ["config"],
                                     ["schema"], ["dlq"], ["dlq", "list"], ["dlq", "replay"], ["eval"], ["train"]])
def test_every_command_has_help(run, command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_process_json_keeps_input_order_and_ids(run, tmp_path):
    rows = [{"id": f"n-{i}", "body": f"Article {i} text."} for i in range(30)]
    result = run("process", "--json", _jsonl(tmp_path, rows))
    assert result.exit_code == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["id"] for d in docs] == [r["id"] for r in rows]
    assert docs[3]["text"] == "Article 3 text."


def test_process_reads_text_html_json_dirs_and_stdin(run, tmp_path):
    (tmp_path / "a.txt").write_text("Plain text article.", encoding="utf-8")
    (tmp_path / "b.html").write_text("<html><body><p>HTML article body.</p></body></html>", encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({"id": "json-1", "body": "JSON article."}), encoding="utf-8")
    result = run("process", "--json", "--stages", "clean", str(tmp_path), "-", input="Stdin article.")
    assert result.exit_code == 0, result.stderr
    texts = [json.loads(line)["text"] for line in result.stdout.splitlines()]
    assert texts == ["Plain text article.", "HTML article body.", "JSON article.", "Stdin article."]


def test_process_stages_prefix(run, tmp_path):
    result = run("process", "--json", "--stages", "clean", _jsonl(tmp_path, [{"body": "x y"}]))
    doc = json.loads(result.stdout)
    assert [p["stage"] for p in doc["provenance"]] == ["clean"]


def test_process_summary_of_the_bundled_sample(run):
    result = run("process", "--stages", "clean", str(SAMPLES / "newswire-en.txt"))
    assert result.exit_code == 0, result.stderr
    assert "newswire-en.txt" in result.stdout and "foreign minister" in result.stdout


@pytest.mark.parametrize(
    "line, words",
    [
        ('{"body": "ok"', "malformed JSON"),
        ('{"title": "t"}', "body: Field required"),
        ('{"body": ["a"]}', "body: Input should be a valid string"),
        ('{"body": "ok", "id": "bad id!"}', "id: id 'bad id!' is invalid"),
    ],
)
def test_bad_input_exits_2_naming_file_and_line(run, tmp_path, line, words):
    path = _jsonl(tmp_path, [{"body": "fine"}, line])
    result = run("process", path)
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert f"{path}:2:" in first and words in first
    assert "nothing was enqueued" in result.stderr
    assert result.stdout == ""


def test_oversized_body_exits_2(run, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_MAX_ARTICLE_BYTES", "50")
    result = run("process", _jsonl(tmp_path, [{"body": "x" * 51}]))
    assert result.exit_code == 2 and "over the 50-byte limit" in result.stderr


def test_failed_article_is_reported_and_listed_in_dlq(run, tmp_path):
    path = _jsonl(tmp_path, [{"id": "ok-1", "body": "Fine."},
                             {"id": "bad-1", "body": "<script>x</script>", "content_type": "text/html"}])
    result = run("process", "--json", "--stages", "clean", path)
    assert result.exit_code == 1
    assert [json.loads(l)["id"] for l in result.stdout.splitlines()] == ["ok-1"]
    assert "bad-1 failed in stage clean" in result.stderr
    listed = run("dlq", "list", "--json")
    (entry,) = [json.loads(l) for l in listed.stdout.splitlines()]
    assert entry["article_id"] == "bad-1" and entry["code"] == "E211"
    shown = json.loads(run("dlq", "show", entry["entry"]).stdout)
    assert json.loads(shown["payload"])["body"] == "<script>x</script>"
    assert run("dlq", "purge", "--older-than", "0s").exit_code == 0
    assert run("dlq", "list").stdout == ""


def test_submit_without_broker_explains(run, tmp_path):
    result = run("submit", _jsonl(tmp_path, [{"body": "x"}]))
    assert result.exit_code == 2 and "NEWSFLOW_BROKER_URL" in result.stderr


def test_submit_to_a_dead_broker_fails_cleanly(run, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_BROKER_URL", "redis://:hunter2@127.0.0.1:1/0")
    result = run("submit", _jsonl(tmp_path, [{"body": "x"}]))
    assert result.exit_code == 1
    assert "unreachable" in result.stderr and "nothing was enqueued" in result.stderr
    assert "hunter2" not in result.stderr


def test_config_masks_secrets(run, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_BROKER_URL", "redis://user:hunter2@redis:6379/0")
    out = run("config").stdout
    assert "hunter2" not in out and "broker_url = redis://user:***@redis:6379/0" in out
    assert "mode = distributed" in out


def test_schema_prints_both_contracts(run):
    schema = json.loads(run("schema").stdout)
    assert schema["ArticleIn"]["required"] == ["body"]
    assert "entities" in schema["Document"]["properties"]


def test_unknown_eval_tool_is_a_clear_error(run):
    result = run("eval", "nonsense")
    assert result.exit_code == 2 and "no evaluation tool named 'nonsense'" in result.stderr


def test_solo_worker_without_supervisor_refuses_more_than_one_process(run, clean_env):
    clean_env.setenv("NEWSFLOW_BROKER_URL", "redis://127.0.0.1:1/0")  # never reached: refused first
    result = run("worker", "--pool", "solo", "--no-supervise", "--concurrency", "2")
    assert result.exit_code != 0
    assert "--pool solo --no-supervise runs one process" in result.output
