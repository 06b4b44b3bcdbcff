"""Saving or deleting an API key clears its cached copy at once, so a revoked key is refused on
the next request by every worker that shares the cache (Redis); a worker with a cache of its own
holds the copy for QV_API_KEY_CACHE_SECONDS at most."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ocr.models import ApiKey


@receiver([post_save, post_delete], sender=ApiKey)
def clear_api_key_cache(sender, instance: ApiKey, **kwargs) -> None:
    instance.clear_cache()
