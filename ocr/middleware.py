"""Keeps every answer under /api/ in the error envelope, whatever fails."""

from __future__ import annotations

import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import MiddlewareNotUsed, RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from ocr.errors import json_error

logger = logging.getLogger(__name__)


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class ApiErrorMiddleware:
    """Turns oversized bodies and uncaught errors under /api/ into JSON errors, not HTML."""

    async_capable = True
    sync_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        too_large = self.reject_oversized(request)
        return too_large or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        too_large = self.reject_oversized(request)
        return too_large or await self.get_response(request)

    def reject_oversized(self, request: HttpRequest) -> HttpResponse | None:
        from django.conf import settings

        if not is_api_path(request):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "The Content-Length header is not a number.")
        if length > settings.QV_MAX_BODY_BYTES:
            return json_error(
                413,
                f"The body is over {settings.QV_MAX_BODY_BYTES // 1024} KiB.",
                {"maxBytes": settings.QV_MAX_BODY_BYTES},
            )
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return json_error(413, "The body is too large.")
        logger.exception("Unhandled error on %s", request.path)
        return json_error(500, "An unexpected error occurred.")


class _InlineMixin:
    """Runs a MiddlewareMixin's hooks on the event loop, as its ``__acall__`` would run them in a
    thread: they do no I/O for an API request, so the two thread hops buy nothing."""

    def __init__(self, middleware, get_response) -> None:
        self.middleware = middleware
        self.get_response = get_response
        self.process_request = getattr(middleware, "process_request", None)
        self.process_response = getattr(middleware, "process_response", None)
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        response = None
        if self.process_request is not None:
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if self.process_response is not None:
            response = self.process_response(request, response)
        return response


class _InlineHook:
    """A MiddlewareMixin's process_view or process_template_response, awaited by Django's handler
    but run on the event loop."""

    def __init__(self, method) -> None:
        self.method = method
        self.__self__ = method.__self__  # Django names the middleware by it in its checks
        markcoroutinefunction(self)

    async def __call__(self, *args, **kwargs):
        return self.method(*args, **kwargs)


def build_api_chain():
    """The settings' middlewares rebuilt for requests under API_PREFIX (see quickvault/asgi.py):
    the MiddlewareMixin ones run inline on the event loop, the async-capable ones as they are, and
    the static-file middleware (nothing under /api/ is a static file) is left out. None when a
    middleware cannot run that way; then API requests take the usual chain."""
    from django.conf import settings
    from django.core.handlers.base import BaseHandler
    from django.core.handlers.exception import convert_exception_to_response
    from django.utils.deprecation import MiddlewareMixin
    from django.utils.module_loading import import_string

    handler_base = BaseHandler()
    handler_base._view_middleware = []
    handler_base._template_response_middleware = []
    handler_base._exception_middleware = []
    handler = convert_exception_to_response(handler_base._get_response_async)
    for path in reversed(settings.MIDDLEWARE):
        if path in API_SKIPPED_MIDDLEWARE:
            continue
        middleware = import_string(path)
        try:
            instance = middleware(handler)
        except MiddlewareNotUsed:
            continue
        if isinstance(instance, MiddlewareMixin):
            layer = _InlineMixin(instance, handler)
            if hasattr(instance, "process_view"):
                handler_base._view_middleware.insert(0, _InlineHook(instance.process_view))
            if hasattr(instance, "process_template_response"):
                handler_base._template_response_middleware.append(
                    _InlineHook(instance.process_template_response)
                )
        elif getattr(middleware, "async_capable", False) and iscoroutinefunction(instance):
            layer = instance
            if hasattr(instance, "process_view") or hasattr(instance, "process_template_response"):
                return None
        else:
            return None
        if hasattr(instance, "process_exception"):
            handler_base._exception_middleware.append(instance.process_exception)
        handler = convert_exception_to_response(layer)
    return handler


# Serves static files only; no path under /api/v1/ is one.
API_SKIPPED_MIDDLEWARE = frozenset({"whitenoise.middleware.WhiteNoiseMiddleware"})
API_PREFIX = "/api/v1/"
