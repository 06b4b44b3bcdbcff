"""Log rows for the dashboard tests, written through the request log's own writer so that the
rollups the dashboard reads hold them."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from ocr import request_log
from ocr.models import ApiKey, OcrRequest, RequestStatus


def logged(
    *,
    document_type: str = "idCard",
    status: str = RequestStatus.SUCCESS,
    created_at: datetime | None = None,
    api_key: ApiKey | None = None,
    **values,
) -> OcrRequest:
    row = OcrRequest(
        document_type=document_type,
        status=status,
        created_at=created_at or timezone.now(),
        api_key=api_key,
        **values,
    )
    (outcome,) = request_log.write_rows([row])
    assert outcome is None, outcome
    return OcrRequest.objects.get(request_id=row.request_id)
