"""The shipped document types and their default prompt templates.

Used by the data migration (with historical models) and by `manage.py seed` to restore anything
missing, never overwriting what staff changed.
"""

from __future__ import annotations

from prompts.document_types import shipped_type_data

DEFAULT_TEMPLATE_VERSION = "1.0.0"

SYSTEM_PROMPT = """You read the OCR text of one {{document_type}} document and return its fields.

Rules:
- Answer with ONE JSON object and nothing else: no prose, no code fences.
- Its keys are exactly these field keys: {{field_keys}}.
- Each value is a string taken from the OCR text, written in the canonical format given below,
  or null when the text does not hold that field. Never guess, complete or invent a value.
- The OCR lines may be out of order, split across lines, letter-spaced or contain stray marks.
  A label and its value may sit on one line or on two. Join a value that wraps onto the next line.
- For identity numbers copy every character exactly as printed; do not correct check digits.
- When a machine readable zone (MRZ) is present, prefer its values."""

USER_PROMPT = """Fields:
{{fields}}

Canonical formats:
{{formats}}

OCR lines, in the order the phone read them:
{{ocr_text}}"""


def seed_shipped_types(*, document_type_model, field_model, template_model) -> int:
    """Create the shipped types, fields and default templates that are missing. Returns how many
    document types were created."""
    created_types = 0
    for spec in shipped_type_data():
        doc_type, created = document_type_model.objects.get_or_create(
            key=spec["key"],
            defaults={"name": spec["name"], "cross_checks": spec.get("crossChecks", [])},
        )
        created_types += created
        for position, field in enumerate(spec["fields"]):
            field_model.objects.get_or_create(
                document_type=doc_type,
                key=field["key"],
                defaults={
                    "label": field["label"],
                    "format": field["format"],
                    "required": field.get("required", False),
                    "sensitive": field.get("sensitive", False),
                    "validator": field.get("validator", ""),
                    "position": position,
                },
            )
        if not template_model.objects.filter(document_type=doc_type).exists():
            template_model.objects.create(
                document_type=doc_type,
                name=spec["key"],
                version=DEFAULT_TEMPLATE_VERSION,
                status="active",
                is_default=True,
                system_prompt=SYSTEM_PROMPT,
                user_prompt=USER_PROMPT,
                notes="Shipped default.",
            )
    return created_types
