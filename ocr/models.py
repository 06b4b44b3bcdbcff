from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import uuid

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone

from ocr import buckets


def secret_cipher() -> Fernet:
    return _cipher(settings.API_KEY_ENCRYPTION_KEY or f"api-key-secrets:{settings.SECRET_KEY}")


@functools.lru_cache(maxsize=4)
def _cipher(material: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


@functools.lru_cache(maxsize=1024)
def _decrypt(cipher: Fernet, token: str) -> bytes | None:
    # Every signed request needs its key's secret; decrypting it each time is a measurable share
    # of a request's CPU, and the process holds the plain secret while it checks anyway.
    try:
        return cipher.decrypt(token.encode())
    except InvalidToken:
        return None


class ApiKeyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(status=ApiKeyStatus.ACTIVE)


class ApiKey(models.Model):
    name = models.CharField(max_length=200)
    key_id = models.CharField(max_length=64, unique=True, editable=False)
    # The secret signs requests, so it must be recoverable by the server: it is kept encrypted
    # under a server key and never shown again after creation.
    encrypted_secret = models.TextField(editable=False)
    rate_limit = models.PositiveIntegerField(
        default=60, help_text="Analyses a minute; 0 means no limit."
    )
    allowed_document_types = models.JSONField(
        default=list, blank=True, help_text="Document type keys this key may use; empty means all."
    )
    status = models.CharField(
        max_length=16, choices=ApiKeyStatus.choices, default=ApiKeyStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    @classmethod
    def issue(cls, *, name: str, rate_limit: int | None = None) -> tuple[ApiKey, str]:
        """Create a key and return it with its secret, which is never retrievable again."""
        secret = secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name,
            key_id=f"qv_{secrets.token_hex(8)}",
            encrypted_secret=secret_cipher().encrypt(secret.encode()).decode(),
            rate_limit=settings.QV_DEFAULT_RATE_LIMIT if rate_limit is None else rate_limit,
        )
        return key, secret

    @property
    def is_active(self) -> bool:
        return self.status == ApiKeyStatus.ACTIVE

    @staticmethod
    def cache_key(key_id: str) -> str:
        return f"apikey:{key_id}"

    def clear_cache(self) -> None:
        cache.delete(self.cache_key(self.key_id))

    def signing_secret(self) -> bytes | None:
        return _decrypt(secret_cipher(), self.encrypted_secret)

    def revoke(self) -> None:
        self.status = ApiKeyStatus.REVOKED
        self.revoked_at = timezone.now()
        self.save(update_fields=["status", "revoked_at"])

    def may_use(self, document_type_key: str) -> bool:
        return not self.allowed_document_types or document_type_key in self.allowed_document_types


class RequestStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    ERROR = "error", "Error"


class OcrRequestQuerySet(models.QuerySet):
    def successful(self) -> OcrRequestQuerySet:
        return self.filter(status=RequestStatus.SUCCESS)

    def since(self, moment) -> OcrRequestQuerySet:
        return self.filter(created_at__gte=moment)

    def before(self, moment) -> OcrRequestQuerySet:
        return self.filter(created_at__lt=moment)

    def search(self, term: str) -> OcrRequestQuerySet:
        """Rows matching `term` exactly on an indexed column: a request id, an API key id, or a
        document type or error code. Never a scan of the log for a substring."""
        term = term.strip()
        if not term:
            return self
        try:
            return self.filter(request_id=uuid.UUID(term))
        except ValueError:
            pass
        if term.startswith("qv_"):
            return self.filter(api_key__key_id=term)
        return self.filter(models.Q(document_type=term) | models.Q(error_code=term))


class OcrRequest(models.Model):
    """One analysis, as the log keeps it. Sensitive values are stored masked."""

    request_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    api_key = models.ForeignKey(
        ApiKey, models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    document_type = models.CharField(max_length=64, blank=True)
    template = models.ForeignKey(
        "prompts.PromptTemplate", models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    template_version = models.CharField(max_length=32, blank=True)
    experiment = models.ForeignKey(
        "prompts.Experiment",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        # The (experiment, variant) index below serves every lookup by experiment.
        db_index=False,
        help_text="The A/B experiment that chose the template, if one did.",
    )
    experiment_variant = models.CharField(max_length=64, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=RequestStatus.choices)
    error_code = models.CharField(max_length=64, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    field_confidence = models.JSONField(default=dict, blank=True)
    fields = models.JSONField(default=dict, blank=True)
    validation = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    processing_time_ms = models.PositiveIntegerField(default=0)
    cached = models.BooleanField(default=False)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    prompt_tokens_unmerged = models.PositiveIntegerField(
        default=0,
        help_text="Prompt tokens this document would have used in a call of its own; above "
        "prompt_tokens when batch analyze merged it with others.",
    )
    batch_id = models.UUIDField(
        null=True, blank=True, help_text="Shared by the documents of one merged model call."
    )
    raw_text = models.TextField(blank=True, help_text="Kept only when QV_STORE_RAW_TEXT is on.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = OcrRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "OCR request"
        ordering = ["-created_at"]
        # Every filter and sort of the admin's list has an index that also serves its order
        # (newest first, ties by id), so that a page is read from an index, not a sort.
        indexes = [
            models.Index(fields=["document_type", "created_at"], name="ocrrequest_type_created"),
            models.Index(fields=["created_at", "id"], name="ocrrequest_created_id"),
            models.Index(fields=["status", "created_at"], name="ocrrequest_status_created"),
            models.Index(fields=["provider", "created_at"], name="ocrrequest_provider_created"),
            models.Index(fields=["cached", "created_at"], name="ocrrequest_cached_created"),
            models.Index(fields=["error_code", "created_at"], name="ocrrequest_error_created"),
            models.Index(fields=["experiment", "created_at"], name="ocrrequest_experiment_created"),
            models.Index(fields=["processing_time_ms", "id"], name="ocrrequest_time_id"),
            # The experiment results group the log by experiment and variant.
            models.Index(
                fields=["experiment", "experiment_variant"], name="ocrrequest_experiment_variant"
            ),
        ]

    def __str__(self) -> str:
        return str(self.request_id)


class Feedback(models.Model):
    """A user's corrections to an earlier answer: the ground truth for accuracy."""

    request = models.ForeignKey(OcrRequest, models.CASCADE, related_name="feedback")
    corrections = models.JSONField(default=dict, blank=True, help_text="Sensitive values masked.")
    corrected_fields = models.JSONField(default=list, blank=True)
    field_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "feedback"
        ordering = ["-created_at"]
        # Feedback sent again for the same request replaces the earlier one.
        constraints = [models.UniqueConstraint(fields=["request"], name="feedback_one_per_request")]

    def __str__(self) -> str:
        return f"Feedback on {self.request.request_id}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # What the rollups hold for this feedback, so that a replacement moves them by the
        # difference (ocr.rollups, on post_save).
        instance._counted = instance.counted()
        return instance

    def counted(self) -> tuple[int, tuple[str, ...]]:
        return self.field_count, tuple(self.corrected_fields)

    @property
    def accuracy(self) -> float | None:
        if not self.field_count:
            return None
        return 1 - len(self.corrected_fields) / self.field_count


class RollupSpan(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day (UTC)"


class RequestRollupQuerySet(models.QuerySet):
    def between(self, start, end, *, span: str = RollupSpan.DAY) -> RequestRollupQuerySet:
        """The rollups of `span` starting from `start` up to (not including) `end`."""
        return self.filter(span=span, start__gte=start, start__lt=end)


class RequestRollup(models.Model):
    """Pre-summed figures of the live request log for one hour, or one day, and one combination
    of document type, template version, provider, model, API key, experiment variant and error
    code (blank for answers served). Every figure is kept per hour (for a day's trend) and per
    day (for any range of whole days: 24 times fewer rows to sum). Kept current with the log's
    writes (``ocr.rollups``) and kept when log rows are purged; the dashboards read only these.
    The histogram columns (``latency_bN``, ``confidence_bN``, ``calibration_fields_bN``,
    ``calibration_right_bN``) are added below from the fixed bucket edges of ``ocr.buckets``."""

    span = models.CharField(max_length=8, choices=RollupSpan.choices, default=RollupSpan.HOUR)
    start = models.DateTimeField(help_text="Where the hour or day begins (UTC).")
    document_type = models.CharField(max_length=64, blank=True)
    template_version = models.CharField(max_length=32, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=200, blank=True)
    # Plain numbers, 0 for none: the figures outlive a deleted key or experiment, and a key of
    # NULLs would never conflict, so the upsert could not find its row.
    api_key_id = models.IntegerField(default=0)
    experiment_id = models.IntegerField(default=0)
    experiment_variant = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=64, blank=True)

    requests = models.PositiveBigIntegerField(default=0)
    successes = models.PositiveBigIntegerField(default=0)
    cache_hits = models.PositiveBigIntegerField(default=0)
    latency_ms_sum = models.PositiveBigIntegerField(default=0)
    confidence_sum = models.FloatField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    feedback = models.BigIntegerField(default=0)
    feedback_fields = models.BigIntegerField(default=0)
    corrected_fields = models.BigIntegerField(default=0)

    objects = RequestRollupQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "span",
                    "start",
                    "document_type",
                    "template_version",
                    "provider",
                    "model",
                    "api_key_id",
                    "experiment_id",
                    "experiment_variant",
                    "error_code",
                ],
                name="requestrollup_key",
            )
        ]
        indexes = [
            models.Index(fields=["experiment_id", "experiment_variant"], name="rollup_experiment")
        ]
        permissions = [("view_dashboard", "Can view the dashboards")]

    def __str__(self) -> str:
        return f"{self.span} {self.start:%Y-%m-%d %H:00} {self.document_type} {self.error_code}"


for _column in buckets.HISTOGRAM_COLUMNS:
    RequestRollup.add_to_class(_column, models.BigIntegerField(default=0))
