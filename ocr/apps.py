from django.apps import AppConfig


class OcrConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ocr"
    verbose_name = "OCR extraction"

    def ready(self) -> None:
        from ocr import schema, signals  # noqa: F401  (OpenAPI auth schemes; cache clearing)
