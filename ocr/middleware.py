"""Keeps every answer of the API (under quickvault.runtime.API_PREFIX) in the error envelope,
whatever fails."""

from __future__ import annotations

import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from ocr.errors import exception_response, json_error
from quickvault.runtime import API_PREFIX

logger = logging.getLogger(__name__)


def is_api_path(request: HttpRequest) -> bool:
    """Whether `request` is one of the API's."""
    return request.path.startswith(API_PREFIX)


class ApiErrorMiddleware:
    """Turns oversized bodies and uncaught errors of the API into JSON errors, not HTML."""

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
        return exception_response(exception)
