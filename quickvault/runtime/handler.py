"""The ASGI handler of the fast path: API requests without a thread of their own.

Mirrors Django 5.2's ``ASGIHandler.__call__`` and ``ASGIHandler.handle`` (see README.md, and
tests/quickvault/test_runtime_upstream.py, which fails when they change upstream).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import import_module
from typing import Any

import django
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponseBase
from django.urls import set_script_prefix
from django.utils.module_loading import import_string

from quickvault.runtime import API_PREFIX
from quickvault.runtime.turns import in_turn, pause

# By then the first requests have imported what loads lazily (the model client's modules and
# connection pools among them): that too lives as long as the process.
FREEZE_AFTER_REQUESTS = 200
# Python's default is 10: a full collection after every tenth collection of the middle
# generation, every few seconds under load. A full collection scans every object of the requests
# in flight (20-40 ms on this project's CI machines, during which none of them moves), and once
# the long-lived objects are frozen and a request leaves no reference cycles it finds next to
# nothing to free.
FULL_COLLECTION_THRESHOLD = 100


class ApiSyncExecutor(ThreadPoolExecutor):
    """The one thread that runs the synchronous calls of API requests in a worker process.

    A call here is the database work of a request (a log write, a cache miss), and the thread
    outlives requests, so after each call its connections are tidied as Django tidies a
    request's: a pooled one goes back to the pool, a broken one is closed. A healthy unpooled
    one (SQLite) stays open for the next call, which would otherwise reconnect every time.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="api-sync")

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return super().submit(_call_then_release_connections, fn, *args, **kwargs)


def _call_then_release_connections(fn, /, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    finally:
        release_connections()


def release_connections() -> None:
    """Tidy this thread's database connections as Django's request_finished receiver would
    (``close_old_connections``), except that a healthy unpooled one in autocommit stays open."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None or conn.in_atomic_block:
            continue
        if conn.errors_occurred:
            if not conn.is_usable():
                conn.close()
                continue
            conn.errors_occurred = False
        if conn.settings_dict.get("OPTIONS", {}).get("pool") or not conn.get_autocommit():
            conn.close()


class QuickVaultASGIHandler(ASGIHandler):
    """Requests under API_PREFIX run on the event loop; their few synchronous calls (database
    work) share one thread per process.

    Django would give each of them a thread of its own: one per middleware, because the
    static-file middleware is sync-only (see quickvault.runtime.middleware_chain), and a new
    thread per request for the request signals and the ORM. Starting that thread, and queueing
    every request behind the signals' calls, cost more than the rest of an analysis. Other paths
    (the admin, the dashboard) are served as Django serves them.
    """

    def __init__(self) -> None:
        super().__init__()
        # Never entered or exited, so a task that outlives its request (a group-committed log
        # write) keeps a live context; one entered per request would have closed under it.
        self.api_sync_context = ThreadSensitiveContext()
        SyncToAsync.context_to_thread_executor[self.api_sync_context] = ApiSyncExecutor()
        self.api_requests = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            return await super().__call__(scope, receive, send)
        # Django's per-request context finds this one set and leaves it. A caller that is
        # itself synchronous (async_to_sync, as in tests) still gets the calls on its thread.
        token = SyncToAsync.thread_sensitive_context.set(self.api_sync_context)
        self.api_requests += 1
        if self.api_requests == FREEZE_AFTER_REQUESTS:
            # Requests are in flight: a full collection now would stall every one of them.
            freeze_long_lived_objects(collect_first=False)
        try:
            await self.handle_api(scope, receive, send)
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)

    async def handle_api(self, scope, receive, send) -> None:
        """ASGIHandler.handle, with the request signals sent on the event loop: their receivers
        tidy the database connections of the thread they run on, and the event loop's thread
        has none (the API's database work runs on the ApiSyncExecutor, which tidies its own)."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        await send_signal(signals.request_started, sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            await close_response(error_response)
            return

        async def process_request(request, send):
            response = await self.run_get_response(request)
            await pause()
            with contextlib.suppress(asyncio.CancelledError):  # the client hung up meanwhile
                await self.send_response(response, send)
            return response

        # As in Django: answer, unless the client disconnects first.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(in_turn(lambda: process_request(request, send))),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await send_signal(signals.request_finished, sender=self.__class__)
        else:
            await close_response(response)
        body_file.close()
        # A task's exception holds a traceback through this frame, whose locals hold the tasks:
        # a reference cycle per request for the garbage collector, unless they are let go.
        del task
        tasks.clear()

    def load_middleware(self, is_async: bool = False) -> None:
        """Django's chain, and beside it the API's (``build_api_chain``) for API_PREFIX."""
        super().load_middleware(is_async=is_async)
        if not is_async:
            return
        from quickvault.runtime.middleware_chain import build_api_chain

        api_chain = build_api_chain()
        if api_chain is None:
            return
        self._middleware_chain = _dispatch_by_path(api_chain, self._middleware_chain)


def _dispatch_by_path(
    api_chain: Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    web_chain: Callable[[HttpRequest], Awaitable[HttpResponseBase]],
) -> Callable[[HttpRequest], Awaitable[HttpResponseBase]]:
    async def dispatch(request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith(API_PREFIX):
            return await api_chain(request)
        return await web_chain(request)

    return dispatch


async def send_signal(signal: Signal, **named: Any) -> None:
    """Send `signal` with its synchronous receivers called on the event loop; where one is
    async (an app added it), as Django sends it."""
    sync_receivers, async_receivers = signal._live_receivers(named["sender"])
    if async_receivers:
        await signal.asend(**named)
    else:
        for receiver in sync_receivers:
            receiver(signal=signal, **named)


async def close_response(response: HttpResponseBase) -> None:
    """response.close() (its resources, then request_finished) on the event loop, where every
    receiver of request_finished is synchronous."""
    _, async_receivers = signals.request_finished._live_receivers(response._handler_class)
    if async_receivers:
        await sync_to_async(response.close)()
    else:
        response.close()


def get_application(*, warm_up: str | None = None) -> QuickVaultASGIHandler:
    """The fast path's counterpart of ``django.core.asgi.get_asgi_application``; `warm_up`
    (a dotted path) runs before the long-lived objects are frozen."""
    django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does
    handler = QuickVaultASGIHandler()
    import_module(settings.ROOT_URLCONF)  # every view, and the modules behind them
    if warm_up:
        import_string(warm_up)()
    freeze_long_lived_objects()
    return handler


def freeze_long_lived_objects(*, collect_first: bool = True) -> None:
    """Move every object alive now out of the cyclic collector's sight.

    A worker holds some hundred thousand objects that live as long as it does: modules,
    classes, functions, pools. A full collection scanned them all, and stalled the event loop,
    and every request in flight, for 100-200 ms a few times a minute. Full collections are made
    rarer too (FULL_COLLECTION_THRESHOLD).

    With `collect_first`, a full collection first frees the garbage there is, so none of it is
    kept for good. Without it (requests in flight, which that collection would stall for 40-50
    ms), what garbage there is stays: a worker's requests leave no reference cycles, and what
    its start left was collected by the first freeze.
    """
    if collect_first:
        gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_THRESHOLD)
