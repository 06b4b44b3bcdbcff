"""Raw OCR text encrypted at rest, its own view permission, and a record of each view."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import ocr.fields_crypto


def encrypt_existing(apps, schema_editor):
    """Encrypt the raw text of rows written before it was encrypted (no Fernet token yet)."""
    from ocr.fields_crypto import TOKEN_PREFIX, encrypt

    table = apps.get_model("ocr", "OcrRequest")._meta.db_table
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, raw_text FROM {connection.ops.quote_name(table)} WHERE raw_text <> ''"
        )
        plain = [(pk, text) for pk, text in cursor.fetchall() if not text.startswith(TOKEN_PREFIX)]
        for pk, text in plain:
            cursor.execute(
                f"UPDATE {connection.ops.quote_name(table)} SET raw_text = %s WHERE id = %s",
                [encrypt(text), pk],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("ocr", "0006_api_key_quotas"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="ocrrequest",
            options={
                "ordering": ["-created_at"],
                "permissions": [
                    ("view_raw_text", "Can view the raw OCR text (each view is recorded)")
                ],
                "verbose_name": "OCR request",
            },
        ),
        migrations.AlterField(
            model_name="ocrrequest",
            name="raw_text",
            field=ocr.fields_crypto.EncryptedTextField(
                blank=True, help_text="Kept only when QV_STORE_RAW_TEXT is on; encrypted."
            ),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
        migrations.CreateModel(
            name="RawTextView",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("username", models.CharField(blank=True, max_length=150)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="raw_text_views",
                        to="ocr.ocrrequest",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "raw text view", "ordering": ["-at"]},
        ),
    ]
