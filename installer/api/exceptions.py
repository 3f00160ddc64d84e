"""One error shape for every API error (API.md "Conventions"):

    {"error": "Bad Request", "message": "...", "statusCode": 400, "details": {"field": ["msg"]}}

DRF's own exceptions, Django's Http404/PermissionDenied, domain errors from services
(installer.errors, mapped by category: CATEGORY_STATUS) and unexpected exceptions on /api/
paths all end up here.
"""

from __future__ import annotations

import logging
import math
import sys
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from installer.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooLarge,
    Unprocessable,
    UnsupportedType,
)
from installer.middleware import db_unavailable_answer, is_db_unavailable

logger = logging.getLogger("installer.api")


# The domain's error categories and their status codes (API.md "Conventions"). Views raise
# them by these names too.
BadRequest = InvalidInput
PayloadTooLarge = TooLarge
UnsupportedMediaType = UnsupportedType
CATEGORY_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (Unprocessable, 422),
    (TooLarge, 413),
    (UnsupportedType, 415),
    (InvalidInput, 400),
)


class ApiError(DomainError):
    """An error that exists only in HTTP (a too large upload, throttling): its own status."""

    status_code = 400


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error."""
    if isinstance(exc, ApiError):
        return exc.status_code
    for category, status in CATEGORY_STATUS:
        if isinstance(exc, category):
            return status
    return 400


class TooManyRequests(ApiError):
    """429 with `Retry-After` (header and `retryAfter` in the body); see installer.throttling."""

    status_code = 429
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message or f"Too many requests. Try again in {self.retry_after} seconds.", **kwargs)
        self.extra.setdefault("retryAfter", self.retry_after)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str, details: dict | None = None, **extra: Any) -> dict:
    body: dict[str, Any] = {"error": reason(status), "message": message, "statusCode": status}
    if details:
        body["details"] = details
    body.update(extra)
    return body


def _flatten(detail: Any) -> dict[str, list[str]]:
    """DRF ValidationError detail -> {"field": ["msg", ...]}: dotted paths for nested objects,
    `[i]` for list items (`customFields[0].value`, `orderTagIds[1]`), and a nested object's own
    error under the object's path (`customFields`); top-level ones under `nonFieldErrors`."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(key, int):  # ListField / many=True errors are keyed by index
                    path = f"{prefix}[{key}]"
                elif key in ("non_field_errors", "nonFieldErrors"):  # an object's own error
                    path = prefix
                else:
                    path = f"{prefix}.{key}" if prefix else str(key)
                walk(path, sub)
        elif isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                if value:
                    out.setdefault(prefix or "nonFieldErrors", []).extend(str(v) for v in value)
            else:
                for index, sub in enumerate(value):
                    if sub:
                        walk(f"{prefix}[{index}]", sub)
        else:
            out.setdefault(prefix or "nonFieldErrors", []).append(str(value))

    walk("", detail)
    return out


def _first_message(details: dict[str, list[str]]) -> str:
    for field, messages in details.items():
        if messages:
            if field == "nonFieldErrors":
                return messages[0]
            return f"{field}: {messages[0]}"
    return "Invalid input."


def api_exception_handler(exc: Exception, context: dict | None = None) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        status = status_of(exc)
        body = error_body(status, exc.message, exc.details, **exc.extra)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(retry_after)
    elif isinstance(exc, SuspiciousOperation):
        status, body = _suspicious(exc)
    elif isinstance(exc, drf_exceptions.ValidationError):
        details = _flatten(exc.detail)
        body = error_body(400, _first_message(details), details)
        status = 400
    elif isinstance(exc, drf_exceptions.ParseError):
        status = 400
        body = error_body(400, f"Malformed request body: {exc.detail}")
    elif isinstance(exc, DjangoValidationError):
        details = _flatten(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        status = 400
        body = error_body(400, _first_message(details), details)
    elif isinstance(exc, (Http404, drf_exceptions.NotFound)):
        status = 404
        body = error_body(404, "Not found.")
    elif isinstance(exc, (PermissionDenied, drf_exceptions.PermissionDenied)):
        status = 403
        message = str(getattr(exc, "detail", "") or "") or "Your role does not allow this action."
        body = error_body(403, message)
    elif isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
        status = 401
        body = error_body(401, str(exc.detail))
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    elif isinstance(exc, drf_exceptions.Throttled):
        status = 429
        wait = max(1, math.ceil(getattr(exc, "wait", None) or 1))
        body = error_body(429, f"Too many requests. Try again in {wait} seconds.", retryAfter=wait)
        headers["Retry-After"] = str(wait)
    elif isinstance(exc, drf_exceptions.APIException):
        status = exc.status_code
        body = error_body(status, str(exc.detail) if not isinstance(exc.detail, (dict, list)) else reason(status))
    elif isinstance(exc, (OperationalError, InterfaceError)) or is_db_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        status = 503
        body = error_body(503, "The database is unavailable. Try again shortly.")
        headers["Retry-After"] = "5"
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        status = 500
        body = error_body(500, "Internal server error.")
    else:
        return None
    return Response(body, status=status, headers=headers)


def _suspicious(exc: Exception) -> tuple[int, dict]:
    """Django refuses the request itself: a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413), too
    many fields or a bad host (400). Without this they are Django's HTML error pages."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, error_body(413, f"The request body is too large (at most {limit} bytes).")
    return 400, error_body(400, "The request was refused as malformed.")


def handler400(request, exception=None):
    if request.path.startswith("/api/"):
        status, body = _suspicious(exception) if exception is not None else (400, error_body(400, "Bad request."))
        return JsonResponse(body, status=status)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


@csrf_exempt
def api_not_found(request, rest: str = ""):
    return JsonResponse(error_body(404, f"No API route matches {request.path}."), status=404)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: the API is token-authenticated and CSRF-exempt; anything under /api/
    that still trips the check answers in the error shape rather than with an HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(403, f"CSRF verification failed: {reason}"), status=403)
    from django.views.csrf import csrf_failure as default_csrf_failure

    return default_csrf_failure(request, reason=reason)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(404, "Not found."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    # Called while the exception is being handled: a lost database is a 503, not a 500.
    if is_db_unavailable(sys.exc_info()[1]):
        return db_unavailable_answer(request.path)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(500, "Internal server error."), status=500)
    from django.views.defaults import server_error

    return server_error(request)
