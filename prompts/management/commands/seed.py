from django.core.management.base import BaseCommand

from prompts.models import DocumentType, FieldDefinition, PromptTemplate
from prompts.seed import seed_shipped_types


class Command(BaseCommand):
    help = "Restore any missing shipped document type, field or default template."

    def handle(self, *args, **options) -> None:
        created = seed_shipped_types(
            document_type_model=DocumentType,
            field_model=FieldDefinition,
            template_model=PromptTemplate,
        )
        self.stdout.write(f"Seeded; {created} document type(s) were missing.")
