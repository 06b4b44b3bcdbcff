"""Test cases from the request log: analyses whose users sent feedback become cases whose
expected values are what the users confirmed or corrected.

Only requests whose raw text was kept (QV_STORE_RAW_TEXT) can give a case. The log keeps
sensitive values masked, so sensitive fields are left out of the expected values: a case checks
the fields the log holds in full.
"""

from __future__ import annotations

from django.db import transaction

from ocr.models import OcrRequest
from prompts.models import FieldDefinition, TestCase, TestSet

MAX_CASES_AT_ONCE = 500


def add_cases_from_feedback(*, test_set: TestSet, document_type: str, limit: int) -> int:
    """Add up to ``limit`` (at most MAX_CASES_AT_ONCE) cases of ``document_type`` to
    ``test_set`` from the newest logged requests with feedback and kept raw text that the set
    does not hold yet (the case id is the request id). Returns how many were added."""
    sensitive = set(
        FieldDefinition.objects.filter(
            document_type__key=document_type, sensitive=True
        ).values_list("key", flat=True)
    )
    held = set(test_set.cases.values_list("case_id", flat=True))
    requests = (
        OcrRequest.objects.successful()
        .filter(document_type=document_type, feedback__isnull=False)
        .exclude(raw_text="")
        .distinct()
        .order_by("-created_at")
        .prefetch_related("feedback")
    )
    position = test_set.cases.count()
    new = []
    for logged in requests.iterator(chunk_size=100):
        if len(new) >= min(limit, MAX_CASES_AT_ONCE):
            break
        if str(logged.request_id) in held:
            continue
        latest = max(logged.feedback.all(), key=lambda f: f.created_at)
        expected = {**logged.fields, **latest.corrections}
        new.append(
            TestCase(
                test_set=test_set,
                case_id=str(logged.request_id),
                document_type=document_type,
                raw_texts=logged.raw_text.splitlines(),
                expected={k: v for k, v in expected.items() if k not in sensitive},
                position=position + len(new),
            )
        )
    with transaction.atomic():
        TestCase.objects.bulk_create(new)
    return len(new)
