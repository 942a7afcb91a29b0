"""The console's Starlette app: Pipeline, Articles, Article and Dead letters views.

Read-only except for replay (``POST /dead-letters/<id>/replay``), which calls
:func:`workers.replay.replay` exactly as ``newsflow dlq replay`` does. An optional token
protects every route; the CLI insists on one when the console is bound beyond loopback.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode, urlsplit

import redis
from celery import Celery
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.errors import NewsflowError
from workers import status as status_mod
from workers.connection import redis_client
from workers.console import templates, views
from workers.settings import mask_secrets

TOKEN_COOKIE = "newsflow_console_token"

# Defence in depth behind escaping: the pages need no script at all, so none may run.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _page(name: str, status_code: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(templates.render(name, **context), status_code=status_code)


def _message(title: str, message: str, status_code: int, kind: str = "problem") -> HTMLResponse:
    return _page("message.html", status_code, title=title, message=message, kind=kind)


class _Guard(BaseHTTPMiddleware):
    """Token check (when configured), same-origin check on POST, security headers on every reply."""

    def __init__(self, app, token: str | None):
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next):
        if self.token:
            given = request.query_params.get("token")
            if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                # Trade the token in the URL for a cookie, and drop it from the address bar.
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                reply = RedirectResponse(target, status_code=303)
                reply.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                return self._secure(reply)
            if not self._authorised(request):
                return self._secure(_message(
                    "Token required",
                    "This console is protected: open it with ?token=<NEWSFLOW_CONSOLE_TOKEN> once, "
                    "or send 'Authorization: Bearer <token>'.",
                    401,
                ))
        if request.method == "POST" and not self._same_origin(request):
            return self._secure(_message("Forbidden", "cross-site form posts are refused", 403))
        return self._secure(await call_next(request))

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        candidates = [request.cookies.get(TOKEN_COOKIE, "")]
        if header.lower().startswith("bearer "):
            candidates.append(header[7:].strip())
        return any(c and hmac.compare_digest(c.encode(), self.token.encode()) for c in candidates)

    @staticmethod
    def _same_origin(request: Request) -> bool:
        origin = request.headers.get("origin") or request.headers.get("referer")
        if not origin or origin == "null":
            return origin != "null"
        return urlsplit(origin).netloc == request.headers.get("host", "")

    @staticmethod
    def _secure(response: Response) -> Response:
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response


def create_console(app: Celery, *, token: str | None = None, refresh_s: int = 5,
                   inspect_timeout_s: float = 1.0) -> Starlette:
    """The console ASGI app for ``app``'s settings (``token`` = None: no authentication)."""
    settings = app.newsflow_settings

    def client() -> redis.Redis:
        return redis_client(settings)

    def store_down(exc: Exception) -> HTMLResponse:
        return _message(
            "Store unavailable",
            f"Redis {mask_secrets(str(settings.effective_redis_url or 'fakeredis'))} did not answer: "
            f"{mask_secrets(str(exc))}. Start Redis or fix NEWSFLOW_REDIS_URL / NEWSFLOW_BROKER_URL.",
            503,
        )

    def pipeline(request: Request):
        st = status_mod.collect(app, inspect_timeout_s=inspect_timeout_s)
        charts = {s.stage: views.chart_bars(s.throughput) for s in st.stages}
        return _page(
            "pipeline.html", 200 if st.ok else 503, title="Pipeline", nav="pipeline", s=st,
            charts=charts, bottleneck=st.bottleneck(), refresh=refresh_s,
            chart_minutes=status_mod.CHART_BUCKET_S * status_mod.CHART_BUCKETS // 60,
            bucket_s=status_mod.CHART_BUCKET_S,
        )

    def api_status(request: Request):
        st = status_mod.collect(app, inspect_timeout_s=inspect_timeout_s)
        return JSONResponse(st.to_dict(), status_code=200 if st.ok else 503)

    def articles(request: Request):
        p = request.query_params
        try:
            v = views.articles_view(client(), language=p.get("language") or None, topic=p.get("topic") or None,
                                    entity=p.get("entity") or None, q=(p.get("q") or "").strip() or None)
        except redis.exceptions.RedisError as exc:
            return store_down(exc)
        only_id = v["exact_id"] and not any(p.get(k) for k in ("language", "topic", "entity"))
        if only_id:  # search by id: an exact hit opens the article
            return RedirectResponse(f"/articles/{v['exact_id']}", status_code=303)
        return _page("articles.html", title="Articles", nav="articles", v=v)

    def article(request: Request):
        article_id = request.path_params["article_id"]
        try:
            v = views.article_view(client(), article_id)
        except redis.exceptions.RedisError as exc:
            return store_down(exc)
        if v is None:
            return _message("Not found", f"No stored article {article_id} (it may still be in flight, "
                            "have failed — see Dead letters — or have expired).", 404, "notice")
        return _page("article.html", title=v["doc"].title or article_id, nav="articles", v=v)

    def dead_letters(request: Request):
        replayed = request.query_params.get("replayed")
        try:
            v = views.dead_letters_view(client(), stage=request.query_params.get("stage") or None)
        except redis.exceptions.RedisError as exc:
            return store_down(exc)
        message = f"Replayed {replayed}: it re-enters the pipeline at its failed stage." if replayed else None
        return _page("dead_letters.html", title="Dead letters", nav="dead", v=v, message=message)

    def dead_letter(request: Request):
        entry_id = request.path_params["entry_id"]
        try:
            v = views.dead_letter_view(client(), entry_id)
        except redis.exceptions.RedisError as exc:
            return store_down(exc)
        if v is None:
            return _message("Not found", f"No dead letter {entry_id} (replayed or purged?).", 404, "notice")
        return _page("dead_letter.html", title=f"Dead letter {entry_id}", nav="dead", v=v)

    def replay(request: Request):
        from workers.replay import replay as replay_letters

        entry_id = request.path_params["entry_id"]
        try:
            done = replay_letters(app, [entry_id])
        except NewsflowError as exc:
            return _message("Replay failed", str(exc), 404)
        except Exception as exc:  # broker down while publishing: say so, keep the letter
            return _message("Replay failed", f"could not publish the replay: {mask_secrets(str(exc))}", 503)
        return RedirectResponse(f"/dead-letters?{urlencode({'replayed': ','.join(done)})}", status_code=303)

    routes = [
        Route("/", pipeline),
        Route("/api/status", api_status),
        Route("/articles", articles),
        Route("/articles/{article_id:path}", article),
        Route("/dead-letters", dead_letters),
        Route("/dead-letters/{entry_id}", dead_letter),
        Route("/dead-letters/{entry_id}/replay", replay, methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(_Guard, token=token or None)])
