from django.db import migrations


def seed(apps, schema_editor):
    from prompts.seed import seed_shipped_types

    seed_shipped_types(
        document_type_model=apps.get_model("prompts", "DocumentType"),
        field_model=apps.get_model("prompts", "FieldDefinition"),
        template_model=apps.get_model("prompts", "PromptTemplate"),
    )


class Migration(migrations.Migration):
    dependencies = [("prompts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
