"""Model routes and prices: which model serves a document, and what a model costs."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ModelRouteQuerySet(models.QuerySet):
    def active(self) -> ModelRouteQuerySet:
        return self.filter(is_active=True)

    def for_type(self, key: str) -> ModelRouteQuerySet:
        """Routes of this document type and routes of any type."""
        return self.filter(Q(document_type__isnull=True) | Q(document_type__key=key))


class ModelRoute(models.Model):
    """Which model serves a document: by type and by how much OCR text it has.

    The active routes that match a document are tried from the highest priority down (a route of
    the document's own type before one for any type at equal priority); the first one wins. A
    route with a blank model sends the document to the default model (OPENAI_MODEL). A template
    that names a model overrides the routing.
    """

    name = models.CharField(max_length=200, help_text="What the route is for, e.g. short cards.")
    document_type = models.ForeignKey(
        "prompts.DocumentType",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="model_routes",
        help_text="Blank: any document type.",
    )
    max_ocr_chars = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Only documents with at most this many OCR characters; blank: any length.",
    )
    max_ocr_lines = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Only documents with at most this many OCR lines; blank: any number.",
    )
    model = models.CharField(
        max_length=200, blank=True, help_text="Model name; blank: the default model."
    )
    priority = models.IntegerField(default=0, help_text="Higher is tried first.")
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ModelRouteQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "id"]
        indexes = [models.Index(fields=["is_active", "-priority"], name="modelroute_active_prio")]

    def __str__(self) -> str:
        return self.name or f"route {self.pk}"


class ModelPrice(models.Model):
    """What a model costs, in US dollars per million tokens, as staff last set it."""

    model = models.CharField(
        max_length=200,
        unique=True,
        help_text="Model name as the endpoint knows it; also prices its dated variants "
        "(gpt-4o-mini prices gpt-4o-mini-2024-07-18).",
    )
    input_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, help_text="USD per 1M prompt tokens."
    )
    output_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, help_text="USD per 1M completion tokens."
    )
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model"]

    def __str__(self) -> str:
        return self.model
