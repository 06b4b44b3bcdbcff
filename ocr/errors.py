"""The error envelope of the API: {"error": {"code", "message", "details"}}.

The one place where errors become HTTP answers: the API's own (``ApiError``), the pipeline's
domain errors (``ocr.exceptions``, by ``api_error``) and DRF's (``api_exception_handler``).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from ocr.exceptions import (
    AnalysisError,
    DocumentTypeNotAllowed,
    InvalidDocument,
    UpstreamError,
    UpstreamTimeout,
)

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error the API answers with its own code, status and details."""

    def __init__(
        self,
        *,
        status_code: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def as_dict(self) -> dict[str, Any]:
        return envelope(self.error_code, self.message, self.details)


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def invalid_request(message: str, details: dict[str, Any] | None = None) -> ApiError:
    return ApiError(status_code=400, code="invalid_request", message=message, details=details)


def payload_too_large(message: str, details: dict[str, Any] | None = None) -> ApiError:
    return ApiError(status_code=413, code="payload_too_large", message=message, details=details)


def not_found(message: str = "Not found.") -> ApiError:
    return ApiError(status_code=404, code="not_found", message=message)


def forbidden(message: str) -> ApiError:
    return ApiError(status_code=403, code="forbidden", message=message)


# Most specific first.
ANALYSIS_ERROR_STATUS: tuple[tuple[type[AnalysisError], int], ...] = (
    (InvalidDocument, 400),
    (DocumentTypeNotAllowed, 403),
    (UpstreamTimeout, 504),
    (UpstreamError, 502),
)


def api_error(error: AnalysisError) -> ApiError:
    """Return the API's answer to a pipeline's domain error."""
    status_code = next(
        (status for kind, status in ANALYSIS_ERROR_STATUS if isinstance(error, kind)), 400
    )
    return ApiError(
        status_code=status_code, code=error.code, message=error.message, details=error.details
    )


class AuthFailure(StrEnum):
    """Why a request is unauthorized: the API's ``details.reason`` and the server log's."""

    MISSING_HEADER = "missing_header"
    UNKNOWN_KEY = "unknown_key"
    KEY_REVOKED = "key_revoked"
    TIMESTAMP_OUT_OF_WINDOW = "timestamp_out_of_window"
    NONCE_REUSED = "nonce_reused"
    SIGNATURE_MISMATCH = "signature_mismatch"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"


AUTH_FAILURE_MESSAGES = {
    AuthFailure.MISSING_HEADER: (
        "Sign the request: X-Api-Key, X-Timestamp, X-Nonce (16-64 of [A-Za-z0-9_-]) and "
        "X-Signature, or Authorization: Bearer with a token."
    ),
    AuthFailure.UNKNOWN_KEY: "No API key has this key id.",
    AuthFailure.KEY_REVOKED: "This API key has been revoked.",
    AuthFailure.TIMESTAMP_OUT_OF_WINDOW: (
        "X-Timestamp is not Unix seconds within 300 seconds of the server's clock."
    ),
    AuthFailure.NONCE_REUSED: "This X-Nonce was already used with this key.",
    AuthFailure.SIGNATURE_MISMATCH: (
        "X-Signature is not the lower-case hex HMAC-SHA256 of the string to sign under this "
        "key's secret."
    ),
    AuthFailure.TOKEN_INVALID: "The Bearer token is not one this service issued.",
    AuthFailure.TOKEN_EXPIRED: "The Bearer token has expired: ask POST /api/v1/auth/token again.",
}


class Unauthorized(exceptions.AuthenticationFailed):
    """A 401 that names the failed check (``reason``) and the key id it was made for."""

    def __init__(self, reason: AuthFailure, *, key_id: str = "") -> None:
        super().__init__(detail=AUTH_FAILURE_MESSAGES[reason], code=reason.value)
        self.reason = reason
        self.key_id = key_id


def service_unavailable(message: str, *, retry_after: int) -> ApiError:
    return ApiError(
        status_code=503,
        code="service_unavailable",
        message=message,
        details={"retryAfter": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def unauthorized_response(exc: exceptions.APIException, request: Any) -> Response:
    """The 401 envelope with ``details.reason``; the log records the reason and the key id
    (never a secret or a signature)."""
    if isinstance(exc, Unauthorized):
        reason, key_id = exc.reason, exc.key_id
    else:  # DRF's NotAuthenticated: no scheme's headers at all.
        reason = AuthFailure.MISSING_HEADER
        key_id = request.META.get("HTTP_X_API_KEY", "") if request is not None else ""
    path = request.path if request is not None else ""
    logger.warning("Unauthorized (%s): key %r, %s", reason.value, key_id[:64], path[:200])
    headers = {"WWW-Authenticate": exc.auth_header} if getattr(exc, "auth_header", None) else {}
    return Response(
        envelope("unauthorized", AUTH_FAILURE_MESSAGES[reason], {"reason": reason.value}),
        status=status.HTTP_401_UNAUTHORIZED,
        headers=headers,
    )


STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    502: "upstream_error",
    503: "service_unavailable",
    504: "upstream_timeout",
}

# Errors that mean the database cannot be reached (down, restarting, out of connections): a
# client should come back, not report a bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable() -> ApiError:
    return service_unavailable(
        "The database cannot be reached; try again shortly.",
        retry_after=DATABASE_RETRY_AFTER_SECONDS,
    )


def exception_response(exception: Exception) -> JsonResponse:
    """The envelope for an error that escaped the views (middleware path): 503 with Retry-After
    where the database is unreachable, else a logged 500."""
    if isinstance(exception, DATABASE_UNAVAILABLE):
        logger.warning("Database unreachable: %s", type(exception).__name__)
        error = database_unavailable()
        response = JsonResponse(error.as_dict(), status=error.status_code)
        for name, value in error.headers.items():
            response[name] = value
        return response
    logger.error("Unhandled error", exc_info=exception)
    return json_error(500, "An unexpected error occurred.")


def json_error(status_code: int, message: str, details: dict | None = None) -> JsonResponse:
    code = STATUS_CODES.get(status_code, "internal_error")
    return JsonResponse(envelope(code, message, details), status=status_code)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, re-shaped into the envelope; anything unexpected becomes a logged 500."""
    if isinstance(exc, AnalysisError):
        exc = api_error(exc)
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("Database unreachable: %s", type(exc).__name__)
        exc = database_unavailable()
    if isinstance(exc, ApiError):
        return Response(exc.as_dict(), status=exc.status_code, headers=exc.headers)
    if isinstance(exc, exceptions.ParseError):
        return Response(
            envelope("invalid_request", "The body is not valid JSON.", None),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"nonFieldErrors": exc.detail}
        return Response(
            envelope("invalid_request", "The request is not valid.", details),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return unauthorized_response(exc, context.get("request"))
    # Imported here: ocr.auth needs this module while rest_framework.views is still loading
    # (its schemas import the authentication classes).
    from rest_framework.views import exception_handler

    response = exception_handler(exc, context)
    if response is not None:
        code = STATUS_CODES.get(response.status_code, "error")
        detail = getattr(exc, "detail", None)
        message = str(detail) if detail else "The request failed."
        response.data = envelope(code, message)
        return response
    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    return Response(
        envelope("internal_error", "An unexpected error occurred."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
