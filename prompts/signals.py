"""Saving a template or a document type clears its cache entries at once."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from prompts.models import DocumentType, FieldDefinition, PromptTemplate


@receiver([post_save, post_delete], sender=PromptTemplate)
def clear_template_cache(sender, instance: PromptTemplate, **kwargs) -> None:
    instance.clear_cache()


@receiver([post_save, post_delete], sender=DocumentType)
def clear_document_type_cache(sender, instance: DocumentType, **kwargs) -> None:
    instance.clear_cache()


@receiver([post_save, post_delete], sender=FieldDefinition)
def clear_field_cache(sender, instance: FieldDefinition, **kwargs) -> None:
    instance.document_type.clear_cache()
