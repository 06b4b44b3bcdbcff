"""The middleware chain of API requests, rebuilt to run on the event loop.

Mirrors Django 5.2's ``BaseHandler.load_middleware`` and ``MiddlewareMixin.__acall__`` (see
README.md, and tests/quickvault/test_runtime_upstream.py, which fails when they change upstream).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase

# Left out of the API's chain: static files (no path under API_PREFIX is one), and the
# session, user and messages of the staff's pages (the API authenticates each request by its
# key or token, in DRF, and keeps no session). Each made objects in reference cycles per
# request, which only the garbage collector's full passes freed, stalling the loop.
API_SKIPPED_MIDDLEWARE = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    }
)

AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


class _InlineMixin:
    """Runs a MiddlewareMixin's hooks on the event loop, as its ``__acall__`` would run them in a
    thread: they do no I/O for an API request, so the two thread hops buy nothing."""

    def __init__(self, middleware: Any, get_response: AsyncHandler) -> None:
        self.middleware = middleware
        self.get_response = get_response
        self.process_request = getattr(middleware, "process_request", None)
        self.process_response = getattr(middleware, "process_response", None)
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
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

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.__self__ = method.__self__  # Django names the middleware by it in its checks
        markcoroutinefunction(self)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.method(*args, **kwargs)


class _RenderJsonOnLoop:
    """The last template-response hook of the API's chain: renders a DRF answer for the JSON
    renderer on the event loop.

    Django's handler renders a response that has ``render`` in a thread (``sync_to_async``),
    unless ``render`` is a coroutine function; on the fast path that thread is the worker's one
    database thread, so every answer queued behind the database work of other requests. JSON
    rendering does no I/O: this renders the answer at once and leaves Django an async ``render``
    that hands it back. Other renderers (the schema's) render as Django would.
    """

    def __init__(self) -> None:
        from rest_framework.renderers import JSONRenderer

        self.json_renderer = JSONRenderer
        self.__self__ = self  # Django names the middleware by it in its checks
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest, response: Any) -> Any:
        if type(getattr(response, "accepted_renderer", None)) is self.json_renderer:
            response.render()
            response.render = _Rendered(response)
            # What rendering needed (the view, the request, the response itself) is let go: it
            # ties them in a reference cycle the garbage collector would have to break.
            response.renderer_context = None
        return response


class _Rendered:
    """An async ``render`` for a response rendered already: returns it (held weakly, so that the
    response and its ``render`` form no reference cycle)."""

    def __init__(self, response: HttpResponseBase) -> None:
        self.response = weakref.ref(response)
        markcoroutinefunction(self)

    async def __call__(self) -> HttpResponseBase | None:
        return self.response()


def build_api_chain() -> AsyncHandler | None:
    """The settings' middlewares rebuilt for requests under API_PREFIX (see
    quickvault.runtime.handler): the MiddlewareMixin ones run inline on the event loop, the
    async-capable ones as they are, and the static-file middleware (nothing under API_PREFIX is
    a static file) is left out. None when a middleware cannot run that way; then API requests
    take the usual chain."""
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
    # After every middleware's hook, as Django renders after them all.
    handler_base._template_response_middleware.append(_RenderJsonOnLoop())
    return handler
