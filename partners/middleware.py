"""The language of the pages people read: the partner workspace (/partner/) and the customer's
pages (the webforms under /f/ and the portal under /t/). Chosen on the page (the language
cookie), else the browser's Accept-Language, else English; the portal may prefer the order's
language over Accept-Language (portal.views.page_language). Other paths (the API, the admin,
the landing page) keep answering in the default language."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

PREFIXES = ("/partner/", "/f/", "/t/")


class PageLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(PREFIXES):
            return self.get_response(request)
        language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        vary = response.headers.get("Vary")
        response.headers["Vary"] = f"{vary}, Accept-Language, Cookie" if vary else "Accept-Language, Cookie"
        return response
