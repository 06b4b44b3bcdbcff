"""Saving or deleting an API key clears its cached copy at once, so a revoked key is refused on
the next request by every worker that shares the cache (Redis); a worker with a cache of its own
holds the copy for QV_API_KEY_CACHE_SECONDS at most. Saving feedback moves its request's rollup."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ocr import rollups
from ocr.models import ApiKey, Feedback


@receiver([post_save, post_delete], sender=ApiKey)
def clear_api_key_cache(sender, instance: ApiKey, **kwargs) -> None:
    instance.clear_cache()


@receiver(post_save, sender=Feedback)
def count_feedback(sender, instance: Feedback, raw: bool = False, **kwargs) -> None:
    # Inside the saving transaction where there is one (update_or_create has one).
    if raw:
        return
    rollups.add_feedback(
        request=instance.request,
        before=getattr(instance, "_counted", None),
        after=instance.counted(),
    )
    instance._counted = instance.counted()
