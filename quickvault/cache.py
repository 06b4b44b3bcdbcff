"""Cache backends whose async methods need no thread."""

from __future__ import annotations

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache


class InlineLocMemCache(LocMemCache):
    """LocMemCache whose async methods run the sync ones on the event loop: they only take a lock
    around a dict, so the thread Django would hand each call to costs more than the call."""

    async def aadd(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.add(key, value, timeout, version)

    async def aget(self, key, default=None, version=None):
        return self.get(key, default, version)

    async def aset(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.set(key, value, timeout, version)

    async def atouch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self.touch(key, timeout, version)

    async def adelete(self, key, version=None):
        return self.delete(key, version)

    async def aget_many(self, keys, version=None):
        return self.get_many(keys, version)

    async def aget_or_set(self, key, default, timeout=DEFAULT_TIMEOUT, version=None):
        return self.get_or_set(key, default, timeout, version)

    async def ahas_key(self, key, version=None):
        return self.has_key(key, version)

    async def aincr(self, key, delta=1, version=None):
        return self.incr(key, delta, version)

    async def adecr(self, key, delta=1, version=None):
        return self.decr(key, delta, version)

    async def aset_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self.set_many(data, timeout, version)

    async def adelete_many(self, keys, version=None):
        return self.delete_many(keys, version)

    async def aclear(self):
        return self.clear()
