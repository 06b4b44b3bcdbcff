"""The request log: one OcrRequest row per analysis, sensitive values masked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.conf import settings

from ocr.errors import ApiError
from ocr.fields import mask_sensitive
from ocr.models import ApiKey, OcrRequest, RequestStatus

if TYPE_CHECKING:
    from ocr.pipeline import Analysis


def masked_fields(analysis: Analysis) -> dict[str, str | None]:
    sensitive = {spec.key for spec in analysis.specs if spec.sensitive}
    return {
        key: mask_sensitive(value) if key in sensitive else value
        for key, value in analysis.fields.items()
    }


def write_success(*, api_key: ApiKey | None, analysis: Analysis, lines: tuple[str, ...]) -> None:
    template_id = analysis.template["id"] if analysis.template else None
    OcrRequest.objects.create(
        request_id=analysis.request_id,
        api_key=api_key,
        document_type=analysis.document_type,
        template_id=template_id,
        template_version=analysis.template["version"] if analysis.template else "",
        provider=analysis.provider,
        model=analysis.model or "",
        status=RequestStatus.SUCCESS,
        confidence=analysis.confidence,
        field_confidence=analysis.field_confidence,
        fields=masked_fields(analysis),
        validation=analysis.validation,
        warnings=analysis.warnings,
        processing_time_ms=analysis.processing_time_ms,
        cached=analysis.cached,
        prompt_tokens=analysis.prompt_tokens,
        completion_tokens=analysis.completion_tokens,
        cost=analysis.cost,
        raw_text="\n".join(lines) if settings.QV_STORE_RAW_TEXT else "",
    )


def write_failure(*, api_key: ApiKey | None, document_type: str | None, error: ApiError) -> None:
    OcrRequest.objects.create(
        api_key=api_key,
        document_type=document_type or "",
        status=RequestStatus.ERROR,
        error_code=error.error_code,
    )


async def record_success(
    *, api_key: ApiKey | None, analysis: Analysis, lines: tuple[str, ...]
) -> None:
    await sync_to_async(write_success)(api_key=api_key, analysis=analysis, lines=lines)


async def record_failure(
    *, api_key: ApiKey | None, document_type: str | None, error: ApiError
) -> None:
    await sync_to_async(write_failure)(api_key=api_key, document_type=document_type, error=error)
