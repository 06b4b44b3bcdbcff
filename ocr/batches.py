"""Deleting expired rows beside live traffic, a batch at a time."""

from __future__ import annotations

from django.db import models


def delete_expired_in_batches(
    queryset: models.QuerySet, *, batch_size: int, max_batches: int | None
) -> int:
    """Delete the rows of `queryset` `batch_size` at a time (short transactions, beside live
    traffic), at most `max_batches` times; returns how many went."""
    deleted = batches = 0
    while max_batches is None or batches < max_batches:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        deleted += queryset.model.objects.filter(pk__in=ids).delete()[0]
        batches += 1
    return deleted
