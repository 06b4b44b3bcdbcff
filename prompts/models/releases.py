"""The release history: which version serves a document type, since when, and why.

Rows are written by ``prompts.releases`` (activation through the gate, rollback).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReleaseKind(models.TextChoices):
    ACTIVATE = "activate", "Activation"
    PROMOTE = "promote", "Experiment promotion"
    IMPORT = "import", "Import"
    ROLLBACK = "rollback", "Rollback"


class Release(models.Model):
    """One change of a document type's default template."""

    document_type = models.ForeignKey(
        "prompts.DocumentType", models.CASCADE, related_name="releases"
    )
    from_template = models.ForeignKey(
        "prompts.PromptTemplate", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_template = models.ForeignKey(
        "prompts.PromptTemplate", models.SET_NULL, null=True, related_name="releases"
    )
    # The versions as text too: the history stays readable if a template row ever goes.
    from_version = models.CharField(max_length=32, blank=True)
    to_version = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=ReleaseKind.choices)
    candidate_figures = models.JSONField(default=dict, blank=True)
    baseline_figures = models.JSONField(default=dict, blank=True)
    gate_message = models.TextField(blank=True)
    override_reason = models.TextField(blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("release_template", "Can release a template version (make it the default)"),
            ("override_release_gate", "Can release a version the gate refused, with a reason"),
        ]

    def __str__(self) -> str:
        return f"{self.document_type.key}: {self.from_version or '—'} → {self.to_version}"
