"""Saving a template, a document type, a route, a price or an experiment clears its cache entries
at once, and starts a new configuration generation, so that every worker reads it again
(prompts.config_cache)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from prompts import config_cache
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentVariant,
    FieldDefinition,
    ModelPrice,
    ModelRoute,
    PromptTemplate,
)


@receiver([post_save, post_delete], sender=PromptTemplate)
def clear_template_cache(sender, instance: PromptTemplate, **kwargs) -> None:
    instance.clear_cache()


@receiver([post_save, post_delete], sender=DocumentType)
def clear_document_type_cache(sender, instance: DocumentType, **kwargs) -> None:
    instance.clear_cache()


@receiver([post_save, post_delete], sender=FieldDefinition)
def clear_field_cache(sender, instance: FieldDefinition, **kwargs) -> None:
    instance.document_type.clear_cache()


@receiver([post_save, post_delete], sender=ModelRoute)
@receiver([post_save, post_delete], sender=ModelPrice)
def clear_model_routing_cache(sender, instance, **kwargs) -> None:
    # Routing and prices are read from a cached snapshot; a staff edit takes effect at once.
    from prompts.routing import clear_routing_cache

    clear_routing_cache()


@receiver([post_save, post_delete], sender=Experiment)
@receiver([post_save, post_delete], sender=ExperimentVariant)
@receiver([post_save, post_delete], sender=PromptTemplate)
def clear_running_experiments_cache(sender, instance, **kwargs) -> None:
    # The snapshot of running experiments holds their templates too: an edited template must not
    # keep serving (or keying the result cache) in its old form.
    from prompts.experiments import clear_experiment_cache

    clear_experiment_cache()


@receiver([post_save, post_delete], sender=DocumentType)
@receiver([post_save, post_delete], sender=FieldDefinition)
@receiver([post_save, post_delete], sender=PromptTemplate)
@receiver([post_save, post_delete], sender=ModelRoute)
@receiver([post_save, post_delete], sender=ModelPrice)
@receiver([post_save, post_delete], sender=Experiment)
@receiver([post_save, post_delete], sender=ExperimentVariant)
def start_new_configuration_generation(sender, instance, **kwargs) -> None:
    config_cache.new_generation()
