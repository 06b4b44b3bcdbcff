from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ocr", "0005_rollups_feedback_per_request"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="daily_request_quota",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Analyses a UTC day (a batch counts each item); 0 means no quota.",
            ),
        ),
        migrations.AddField(
            model_name="apikey",
            name="daily_token_quota",
            field=models.PositiveBigIntegerField(
                default=0,
                help_text="Model tokens (prompt and completion) a UTC day; 0 means no quota.",
            ),
        ),
    ]
