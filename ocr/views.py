"""Django's own 404 and 500 pages, in the API's envelope under /api/."""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from ocr.errors import json_error


def not_found_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error(404, "No such address.")
    return defaults.page_not_found(request, exception)


def server_error_view(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error(500, "An unexpected error occurred.")
    return defaults.server_error(request)
