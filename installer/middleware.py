"""Request id: taken from X-Request-ID when it looks sane, made up otherwise; echoed back and
available to services (timeline events carry it) and to log lines (installer.logging) through
context variables.

DatabaseUnavailableMiddleware turns a lost database (OperationalError/InterfaceError, a pool
that cannot hand out a connection) into 503 with Retry-After: in the API error shape on /api/
and the health paths, a plain HTML page (templates/503.html) everywhere else.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.db import InterfaceError, OperationalError

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_request: contextvars.ContextVar[dict | None] = contextvars.ContextVar("request_context", default=None)
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
logger = logging.getLogger("installer.db")


def current_request_id() -> str | None:
    return _request_id.get()


def current_request() -> dict | None:
    """{"request_id", "method", "path"} of the request being served, or None."""
    return _request.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from installer.db_router import request_scope

        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        context = _request.set({"request_id": request_id, "method": request.method, "path": request.path})
        try:
            # Safe methods may read from the replica until the request writes; unsafe ones never do.
            with request_scope(may_use_replica=request.method in SAFE_METHODS):
                response = self.get_response(request)
        finally:
            _request.reset(context)
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


DB_UNAVAILABLE = (OperationalError, InterfaceError)


def is_db_unavailable(exc: BaseException | None) -> bool:
    """A lost or unreachable database, also when wrapped (psycopg_pool.PoolTimeout is an
    OperationalError of psycopg; Django wraps psycopg's errors in its own)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DB_UNAVAILABLE):
            return True
        try:
            import psycopg

            if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
                return True
        except ImportError:  # pragma: no cover - psycopg is a requirement
            pass
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def wants_json_503(path: str) -> bool:
    return path.startswith("/api/") or path in ("/readyz", "/healthz")


RETRY_AFTER_SECONDS = "5"


def db_unavailable_response():
    from django.http import JsonResponse

    from installer.api.exceptions import error_body

    response = JsonResponse(error_body(503, "The database is unavailable. Try again shortly."), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def db_unavailable_page():
    """The HTML 503 page: a static template rendered without the request, so that nothing on
    it (context processors, the user, the session) reads the database."""
    from django.http import HttpResponse
    from django.template.loader import render_to_string

    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    response["Cache-Control"] = "no-store"
    return response


def db_unavailable_answer(path: str):
    """503 for a lost database: JSON on API and health paths, the HTML page elsewhere."""
    return db_unavailable_response() if wants_json_503(path) else db_unavailable_page()


class DatabaseUnavailableMiddleware:
    """503 instead of a 500 when the database is gone: the API error shape on API and health
    paths, a plain HTML page with Retry-After on every page (forms, tracking, the admin).

    DRF views already answer 503 through the exception handler; this catches what happens
    outside them (plain views, middleware reading the session or user). Errors raised inside
    other middleware are turned into responses before they get here: `handler500` does the
    same mapping for those.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except Exception as exc:
            if is_db_unavailable(exc):
                logger.warning("database unavailable: %s", exc)
                return db_unavailable_answer(request.path)
            raise

    def process_exception(self, request, exception):
        if is_db_unavailable(exception):
            logger.warning("database unavailable: %s", exception)
            return db_unavailable_answer(request.path)
        return None
