from collections import defaultdict

from django.db import migrations, models

KEY = [
    "document_type",
    "template_version",
    "provider",
    "model",
    "api_key_id",
    "experiment_id",
    "experiment_variant",
    "error_code",
]


def add_days(apps, schema_editor):
    """The day rows, summed from the hour rows already there."""
    RequestRollup = apps.get_model("ocr", "RequestRollup")
    figures = [
        field.name
        for field in RequestRollup._meta.concrete_fields
        if field.name not in {"id", "span", "start", *KEY}
    ]
    days = defaultdict(lambda: defaultdict(int))
    for row in RequestRollup.objects.filter(span="hour").values("start", *KEY, *figures).iterator():
        day = row["start"].replace(hour=0, minute=0, second=0, microsecond=0)
        sums = days[(day, *(row[name] for name in KEY))]
        for name in figures:
            sums[name] += row[name]
    RequestRollup.objects.bulk_create(
        (
            RequestRollup(span="day", start=key[0], **dict(zip(KEY, key[1:], strict=True)), **sums)
            for key, sums in days.items()
        ),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("ocr", "0008_request_log_indexes")]

    operations = [
        migrations.RemoveConstraint(model_name="requestrollup", name="requestrollup_key"),
        migrations.RenameField(model_name="requestrollup", old_name="hour", new_name="start"),
        migrations.AlterField(
            model_name="requestrollup",
            name="start",
            field=models.DateTimeField(help_text="Where the hour or day begins (UTC)."),
        ),
        migrations.AddField(
            model_name="requestrollup",
            name="span",
            field=models.CharField(
                choices=[("hour", "Hour"), ("day", "Day (UTC)")], default="hour", max_length=8
            ),
        ),
        migrations.AddConstraint(
            model_name="requestrollup",
            constraint=models.UniqueConstraint(
                fields=["span", "start", *KEY], name="requestrollup_key"
            ),
        ),
        migrations.RunPython(add_days, migrations.RunPython.noop),
    ]
