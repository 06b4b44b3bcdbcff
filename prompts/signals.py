"""Saving or deleting any configuration row starts a new configuration generation, so every
worker loads the configuration again on its next request (prompts.configuration)."""

from django.db.models.signals import post_delete, post_save

from prompts import configuration
from prompts.models import (
    DocumentType,
    Experiment,
    ExperimentVariant,
    FieldDefinition,
    ModelPrice,
    ModelRoute,
    PromptTemplate,
)

CONFIGURATION_MODELS = (
    DocumentType,
    FieldDefinition,
    PromptTemplate,
    ModelRoute,
    ModelPrice,
    Experiment,
    ExperimentVariant,
)


def start_new_configuration_generation(sender, **kwargs) -> None:
    configuration.new_generation()


def connect() -> None:
    """Connect the one receiver to every configuration model's saves and deletes."""
    for model in CONFIGURATION_MODELS:
        for signal in (post_save, post_delete):
            signal.connect(start_new_configuration_generation, sender=model)
