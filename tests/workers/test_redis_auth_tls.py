"""Redis AUTH and TLS (rediss://) URLs carry a whole pipeline run, with the password masked."""

import subprocess
import time

import pytest
import redis as redis_lib

from workers.app import create_app
from workers.client import Client
from workers.connection import reset_clients
from workers.embedded import embedded_worker
from workers.settings import Settings

pytestmark = pytest.mark.redis
PASSWORD = "s3cret-pw"


@pytest.fixture
def private_redis(tmp_path, binary):
    """Start redis-server with the given extra arguments; stopped after the test."""
    procs = []

    def start(*args):
        proc = subprocess.Popen([binary("redis-server"), "--bind", "127.0.0.1", "--save", "",
                                 "--requirepass", PASSWORD, "--dir", str(tmp_path), *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        time.sleep(0.5)
        if proc.poll() is not None:
            pytest.skip("this redis-server build refused the options (no TLS support?)")
        return proc

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def _run(url: str) -> None:
    reset_clients()
    settings = Settings(broker_url=url)
    app = create_app(settings)
    client = Client(settings, app)
    with embedded_worker(app):
        doc = client.wait(client.submit({"body": "Talks in Baghdad on Tuesday.", "id": "sec-1"},
                                        stages=["clean", "language"]), 60)
    assert doc.stages_done() == ["clean", "language"]
    assert PASSWORD not in str(settings.masked())
    reset_clients()


def test_auth_url(private_redis, clean_env, free_port):
    port = free_port()
    private_redis("--port", str(port))
    with pytest.raises(redis_lib.AuthenticationError):
        redis_lib.Redis(port=port).ping()
    _run(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")


def test_tls_url(private_redis, clean_env, tmp_path, binary, free_port):
    openssl = binary("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    port = free_port()
    private_redis("--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                  "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no")
    _run(f"rediss://:{PASSWORD}@localhost:{port}/0?ssl_cert_reqs=required&ssl_ca_certs={cert}")
