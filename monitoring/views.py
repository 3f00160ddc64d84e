"""GET /metrics: the Prometheus exposition (monitoring/metrics.py).

Answered only to a scraper that shows METRICS_TOKEN (`Authorization: Bearer <token>`) or comes
from an address in METRICS_ALLOWED_IPS (addresses or CIDR networks; the client address is
installer.throttling.client_ip, which reads X-Forwarded-For only behind TRUSTED_PROXY_COUNT
proxies). Anyone else gets 403, and so does everyone while neither is set."""

from __future__ import annotations

import hmac
import ipaddress
import os
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from installer.throttling import client_ip
from monitoring.metrics import REQUEST_SERIES, StateCollector


@cache
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    networks = _networks(tuple(settings.METRICS_ALLOWED_IPS))
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in networks)


def registry() -> CollectorRegistry:
    """The request series (added up over every process in multiprocess mode) and the state."""
    collected = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(collected)
    else:
        for series in REQUEST_SERIES:
            collected.register(series)
    return collected


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain; charset=utf-8")
    collected = registry()
    collected.register(StateCollector())
    return HttpResponse(generate_latest(collected), content_type=CONTENT_TYPE_LATEST)
