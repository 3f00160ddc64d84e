"""Counts every request for /metrics: by route (the URL pattern that matched, never the raw
path), method and status, its latency, and the time of each database query it made."""

from __future__ import annotations

import time
from contextlib import ExitStack

from django.db import connections

from monitoring import metrics

# Methods outside this set are counted as "other" (the label stays bounded).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(request) -> str:
    """The matched URL pattern ("api/v1/order/<uuid:pk>" style), or "unmatched"."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    return "/" + match.route.lstrip("^").replace("\\", "").removesuffix("$")


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        with ExitStack() as stack:
            for connection in connections.all(initialized_only=False):
                stack.enter_context(connection.execute_wrapper(metrics.timed_query))
            response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        metrics.REQUESTS.labels(route, method, str(response.status_code)).inc()
        metrics.REQUEST_SECONDS.labels(route, method).observe(time.perf_counter() - started)
        return response
