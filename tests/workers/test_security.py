"""JSON only on every queue: a pickled message is refused, never unpickled."""

import pickle

from workers import keys


class _Canary:
    """Unpickling this would create a file: proof that pickle was executed."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickled_message_is_refused_and_never_executed(app, client, store, tmp_path, caplog):
    canary = tmp_path / "unpickled"
    body = pickle.dumps(((_Canary(str(canary)),), {}, {}))
    with app.connection_for_write() as conn:
        producer = conn.Producer()
        producer.publish(
            body,
            exchange="newsflow",
            routing_key=keys.queue("clean"),
            content_type="application/x-python-serialize",
            content_encoding="binary",
            headers={"task": keys.task_name("clean"), "id": "pickled-1", "lang": "py",
                     "argsrepr": "", "kwargsrepr": "", "origin": "attacker"},
        )
    # A good article submitted after it proves the worker went on; then look.
    assert client.wait(client.submit({"body": "After the pickle.", "id": "after"}), 30).text == "After the pickle."
    assert not canary.exists()
    assert [e[1]["id"] for e in store.xrange(keys.events_stream("clean"))] == ["after"]
    assert any("pickle" in r.getMessage().lower() or "untrusted" in r.getMessage().lower() for r in caplog.records)
