from django.apps import AppConfig


class PromptsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "prompts"
    verbose_name = "Document types and prompts"

    def ready(self) -> None:
        from prompts import signals

        signals.connect()
