"""Requests to the JSON API that carry a personal access token take a shorter way through Django.

A phone's request (`Authorization: Bearer …`, no session cookie) needs none of what signed-in browsers and
pages need: a session, the session's user and their second factor, messages, CSRF (there is no cookie to
forge), the htmx details, the sign-in lockouts (a token is not a password). After the middleware every request
passes (security headers, static files, metrics), such a request goes through `BEARER_API_MIDDLEWARE` (the
language, the framing and content-security headers) to the API, which authenticates the token; everything else
goes on through the rest of `MIDDLEWARE`. On a check-in that is about a tenth of the request's processor time
(docs/performance.md). A request with both a token and a session cookie takes the long way, so that a browser's
request is never judged without its session.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string

API_PREFIX = "/api/"


def is_bearer_api_request(request) -> bool:
    return (
        request.path_info.startswith(API_PREFIX)
        and request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class _BearerApiHandler(BaseHandler):
    """Django's own request handling (URL resolution, the view, its exceptions) behind a chain of its own."""

    def __init__(self, middleware: list[str]) -> None:
        super().__init__()
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        chain = convert_exception_to_response(self._get_response)
        for path in reversed(middleware):
            instance = import_string(path)(chain)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            chain = convert_exception_to_response(instance)
        self._middleware_chain = chain


class BearerApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.api = _BearerApiHandler(settings.BEARER_API_MIDDLEWARE)

    def __call__(self, request):
        if is_bearer_api_request(request):
            return self.api._middleware_chain(request)
        return self.get_response(request)


class AnonymousUntilTokenMiddleware:
    """Nobody is signed in until the API's token authentication says who it is (`request.user`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = AnonymousUser()
        return self.get_response(request)


class ApiLocaleMiddleware:
    """The language of an API answer, from the language cookie or Accept-Language as Django's LocaleMiddleware
    decides it, without that middleware's work for language prefixes in paths, which Alongside's URLs do not
    have (a test keeps it so)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = language = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response
