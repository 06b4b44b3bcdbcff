"""The roles: "Prompt engineers" edit drafts, keep test sets, run evaluations and experiments
(releasing a version needs the release permission, given on its own); "Managers" read."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PROMPT_ENGINEERS = "Prompt engineers"
MANAGERS = "Managers"

READ = [
    ("prompts", "documenttype"),
    ("prompts", "fielddefinition"),
    ("prompts", "prompttemplate"),
    ("prompts", "modelroute"),
    ("prompts", "modelprice"),
    ("prompts", "experiment"),
    ("prompts", "experimentvariant"),
    ("prompts", "testset"),
    ("prompts", "testcase"),
    ("prompts", "evaluationrun"),
    ("prompts", "release"),
    ("ocr", "ocrrequest"),
    ("ocr", "feedback"),
]
ENGINEER_WRITES = {
    ("prompts", "prompttemplate"): ["add", "change", "delete"],  # served versions stay frozen
    ("prompts", "experiment"): ["add", "change", "delete"],
    ("prompts", "experimentvariant"): ["add", "change", "delete"],
    ("prompts", "testset"): ["add", "change", "delete"],
    ("prompts", "testcase"): ["add", "change", "delete"],
    ("prompts", "evaluationrun"): ["delete", "run_evaluation"],
}


def codename(action: str, model: str) -> str:
    return action if "_" in action else f"{action}_{model}"


def create_roles(apps, schema_editor) -> None:
    # Permissions are made after all migrations on a fresh database; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(pairs):
        return [
            Permission.objects.get(content_type__app_label=app, codename=codename(action, model))
            for app, model, action in pairs
        ]

    reads = [(app, model, "view") for app, model in READ]
    writes = [
        (app, model, action) for (app, model), actions in ENGINEER_WRITES.items() for action in actions
    ]
    engineers, _ = Group.objects.get_or_create(name=PROMPT_ENGINEERS)
    engineers.permissions.add(*permissions(reads + writes))
    managers, _ = Group.objects.get_or_create(name=MANAGERS)
    managers.permissions.add(*permissions(reads))


def remove_roles(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=[PROMPT_ENGINEERS, MANAGERS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("prompts", "0006_release_gate_test_sets_and_runs"),
        ("ocr", "0003_request_experiment"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
