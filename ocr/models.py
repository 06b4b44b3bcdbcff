from __future__ import annotations

import secrets
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.db import connection, models
from django.utils import timezone

from ocr import buckets
from ocr.batches import delete_expired_in_batches
from ocr.fields_crypto import EncryptedTextField
from ocr.key_secrets import decrypt_secret, secret_cipher

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper


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
    daily_request_quota = models.PositiveIntegerField(
        default=0, help_text="Analyses a UTC day (a batch counts each item); 0 means no quota."
    )
    daily_token_quota = models.PositiveBigIntegerField(
        default=0, help_text="Model tokens (prompt and completion) a UTC day; 0 means no quota."
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
        return decrypt_secret(secret_cipher(), self.encrypted_secret)

    def reencrypt(self) -> bool:
        """Encrypt the secret again under the first key of API_KEY_ENCRYPTION_KEY; False (and
        nothing saved) where no key at hand decrypts it."""
        try:
            rotated = secret_cipher().rotate(self.encrypted_secret.encode()).decode()
        except InvalidToken:
            return False
        if rotated != self.encrypted_secret:
            self.encrypted_secret = rotated
            self.save(update_fields=["encrypted_secret"])
            self.clear_cache()
        return True

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
    # Holds identity numbers in full: encrypted at rest (RAW_TEXT_ENCRYPTION_KEY), shown only to
    # the view_raw_text permission, each view recorded (RawTextView).
    raw_text = EncryptedTextField(
        blank=True, help_text="Kept only when QV_STORE_RAW_TEXT is on; encrypted."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OcrRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "OCR request"
        ordering = ["-created_at"]
        permissions = [("view_raw_text", "Can view the raw OCR text (each view is recorded)")]
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

    RAW_TEXT_PERMISSION = "ocr.view_raw_text"

    @staticmethod
    def may_view_raw_text(user) -> bool:
        """Whether `user` holds the permission to read raw OCR text. The model's view permission
        does not imply it: it is granted on its own (superusers hold every permission)."""
        return bool(user and user.is_active and user.has_perm(OcrRequest.RAW_TEXT_PERMISSION))

    def reveal_raw_text(self, *, user) -> str:
        """Return the raw OCR text for `user` and record that they saw it. Raise
        PermissionError where they may not."""
        if not self.may_view_raw_text(user):
            raise PermissionError("Viewing raw OCR text needs the view_raw_text permission.")
        if self.raw_text:
            RawTextView.objects.create(request=self, user=user)
        return self.raw_text


class RawTextView(models.Model):
    """A record that a staff user saw a request's raw OCR text (personal data)."""

    request = models.ForeignKey(OcrRequest, models.CASCADE, related_name="raw_text_views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    # Kept even when the user is deleted later.
    username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "raw text view"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username or '?'} saw {self.request_id} at {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs) -> None:
        if self.user is not None and not self.username:
            self.username = self.user.get_username()
        super().save(*args, **kwargs)


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


class UsedNonceQuerySet(models.QuerySet):
    def expired(self) -> UsedNonceQuerySet:
        return self.filter(expires_at__lt=timezone.now())

    def delete_expired(self, *, batch_size: int = 5000, max_batches: int | None = None) -> int:
        """Delete expired nonces in batches; returns how many went."""
        return delete_expired_in_batches(
            self.expired(), batch_size=batch_size, max_batches=max_batches
        )


class UsedNonce(models.Model):
    """A nonce a key has signed with, remembered until its request's timestamp is out of the
    window: the replay guard that every worker shares where there is no Redis."""

    key_id = models.CharField(max_length=64)
    nonce = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    objects = UsedNonceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key_id", "nonce"], name="usednonce_key_nonce_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key_id}:{self.nonce}"

    @classmethod
    def claim(cls, *, key_id: str, nonce: str, lifetime_seconds: int) -> bool:
        """Record that `key_id` used `nonce`; False where it already did (and that use has not
        expired). One statement, atomic however many workers race for the same nonce; an
        expired row is taken over in place."""
        with connection.cursor() as cursor:
            return cls.claim_with(
                cursor,
                connection=connection,
                key_id=key_id,
                nonce=nonce,
                lifetime_seconds=lifetime_seconds,
            )

    @classmethod
    def claim_with(
        cls,
        cursor: Any,
        *,
        connection: BaseDatabaseWrapper,
        key_id: str,
        nonce: str,
        lifetime_seconds: int,
    ) -> bool:
        """``claim``'s statement, run on `cursor` (a DB-API cursor that takes ``%s``
        placeholders) and written for the database of `connection`."""
        now = timezone.now()
        table = connection.ops.quote_name(cls._meta.db_table)
        sql = (
            f"INSERT INTO {table} (key_id, nonce, expires_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at "
            f"WHERE {table}.expires_at < %s"
        )
        adapt = connection.ops.adapt_datetimefield_value
        expires = now + timedelta(seconds=lifetime_seconds)
        cursor.execute(sql, [key_id, nonce, adapt(expires), adapt(now)])
        return cursor.rowcount == 1


class RateCounterQuerySet(models.QuerySet):
    def delete_expired(self, *, batch_size: int = 5000, max_batches: int | None = None) -> int:
        """Delete the counters of rate-limit windows that have passed; returns how many."""
        return delete_expired_in_batches(
            self.filter(expires__lt=time.time()), batch_size=batch_size, max_batches=max_batches
        )


class RateCounter(models.Model):
    """The table behind the rate limiter's counters without Redis (quickvault.counters): a row
    per key and minute, deleted once the minute has passed."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.BigIntegerField()
    expires = models.FloatField(db_index=True, help_text="Unix time.")

    objects = RateCounterQuerySet.as_manager()

    class Meta:
        db_table = "ocr_ratecounter"

    def __str__(self) -> str:
        return self.cache_key


class RollupSpan(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day (UTC)"


class RequestRollupQuerySet(models.QuerySet):
    def between(self, start, end, *, span: str = RollupSpan.DAY) -> RequestRollupQuerySet:
        """The rollups of `span` starting from `start` up to (not including) `end`."""
        return self.filter(span=span, start__gte=start, start__lt=end)


# What one rollup row is for: its span and start, and the combination its figures are summed over.
ROLLUP_KEY_COLUMNS = (
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
)


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
                fields=list(ROLLUP_KEY_COLUMNS),
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


# In a module of its own, with the statements that claim and answer its rows.
from ocr.idempotency_records import IdempotencyRecord  # noqa: E402, F401
