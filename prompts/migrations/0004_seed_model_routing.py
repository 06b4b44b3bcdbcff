"""Seed a default model route and a few model prices (USD per 1M tokens, as published)."""

from decimal import Decimal

from django.db import migrations

PRICES = [
    ("gpt-4o-mini", Decimal("0.15"), Decimal("0.60")),
    ("gpt-4o", Decimal("2.50"), Decimal("10.00")),
    ("gpt-4.1-nano", Decimal("0.10"), Decimal("0.40")),
    ("gpt-4.1-mini", Decimal("0.40"), Decimal("1.60")),
    ("gpt-4.1", Decimal("2.00"), Decimal("8.00")),
]


def seed(apps, schema_editor):
    ModelRoute = apps.get_model("prompts", "ModelRoute")
    ModelPrice = apps.get_model("prompts", "ModelPrice")
    DocumentType = apps.get_model("prompts", "DocumentType")
    for model, input_price, output_price in PRICES:
        ModelPrice.objects.get_or_create(
            model=model,
            defaults={"input_per_million": input_price, "output_per_million": output_price},
        )
    if ModelRoute.objects.exists():
        return
    ModelRoute.objects.create(
        name="Default: every document",
        model="",
        priority=0,
        notes="Blank model: the default model (OPENAI_MODEL).",
    )
    # A bank card is a handful of short lines with one checked number: a cheaper model reads it
    # as well. A route's model the endpoint does not serve falls back to the default model.
    bank_card = DocumentType.objects.filter(key="bankCard").first()
    if bank_card is not None:
        ModelRoute.objects.create(
            name="Short bank cards: cheaper model",
            document_type=bank_card,
            max_ocr_chars=300,
            max_ocr_lines=15,
            model="gpt-4.1-nano",
            priority=10,
        )


def unseed(apps, schema_editor):
    apps.get_model("prompts", "ModelRoute").objects.all().delete()
    apps.get_model("prompts", "ModelPrice").objects.filter(
        model__in=[model for model, _, _ in PRICES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("prompts", "0003_model_routing_and_prices")]

    operations = [migrations.RunPython(seed, unseed)]
