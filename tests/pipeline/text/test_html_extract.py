"""HTML main-content extraction: offline, metadata, audit of what was left out."""

import socket
from pathlib import Path

import pytest

from pipeline.text.html_extract import extract, visible_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket or resolve a name fails the test."""
    import trafilatura  # noqa: F401  (load it, and the ssl module, before sockets are refused)

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    class RefusingSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse(*args)

    monkeypatch.setattr(socket, "socket", RefusingSocket)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_page_full_of_urls_is_extracted_without_network(no_network):
    links = "".join(f'<a href="https://host{i}.example/p{i}">l{i}</a> <img src="http://img{i}.example/x.png">' for i in range(200))
    html = (
        '<html><head><link rel="canonical" href="https://news.example/a"><script src="https://x.example/a.js"></script></head>'
        f"<body><nav>{links}</nav><article><p>{'A sentence of the story that is long enough. ' * 20}</p></article>"
        '<iframe src="https://video.example/embed"></iframe></body></html>'
    )
    page = extract(html, url="https://news.example/a")
    assert "A sentence of the story" in page.text
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("news.example", 443))  # the guard was active throughout


def test_metadata_and_main_text_of_a_news_page(no_network):
    page = extract((FIXTURES / "clean" / "page_en.html").read_text(encoding="utf-8"))
    assert page.title == "Council backs river clean-up plan"
    assert page.author == "Alex Morgan" and page.sitename == "Riverside Gazette"
    assert page.date == "2024-03-14"
    assert "sewage overflows upstream" in page.text
    assert "Privacy policy" not in page.text and "Bridge repairs delayed again" not in page.text
    assert "Bridge repairs delayed again" in page.discarded


def test_deeply_nested_markup_falls_back_to_visible_text():
    html = "<html><body>" + "<div>" * 10_000 + "<p>Deep story text that matters.</p>" + "</div>" * 10_000 + "</body></html>"
    page = extract(html)
    assert "Deep story text that matters." in page.text


def test_visible_text_skips_scripts_and_styles():
    text = visible_text("<p>Hi</p><script>var x = '<p>no</p>';</script><style>p{}</style><p>there</p>")
    assert "Hi" in text and "there" in text and "var x" not in text
