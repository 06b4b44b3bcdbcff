"""Why an analysis could not be served, in the pipeline's own terms.

The pipeline raises these; ``ocr.errors`` alone turns them into HTTP answers. ``code`` is the
error code the API answers with and the request log records.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AnalysisError(Exception):
    """An analysis that cannot be served. ``details`` names the request's fields at fault."""

    code: ClassVar[str] = "invalid_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidDocument(AnalysisError):
    """The request names no type that can serve it: unknown, undetectable, or a template of
    another type."""


class DocumentTypeNotAllowed(AnalysisError):
    """The API key may not analyse documents of this type."""

    code = "forbidden"


class UpstreamError(AnalysisError):
    """Neither the model nor the built-in extractor could answer."""

    code = "upstream_error"


class UpstreamTimeout(UpstreamError):
    """The model did not answer in time and the built-in extractor could not answer either."""

    code = "upstream_timeout"
