"""The API chain's last template-response hook: JSON answers rendered on the event loop, so that
Django's handler need not hop to the database thread to render them."""

from __future__ import annotations

from asgiref.sync import async_to_sync, iscoroutinefunction
from django.test import RequestFactory
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from quickvault.runtime.middleware_chain import _RenderJsonOnLoop


def negotiated(renderer) -> Response:
    response = Response({"fields": {"name": "张三"}})
    response.accepted_renderer = renderer
    response.accepted_media_type = renderer.media_type
    response.renderer_context = {}
    return response


def test_a_json_answer_is_rendered_by_the_hook_and_handed_back_by_an_async_render():
    response = negotiated(JSONRenderer())
    request = RequestFactory().post("/api/v1/ocr/analyze")

    hooked = async_to_sync(_RenderJsonOnLoop())(request, response)

    assert hooked.is_rendered
    assert iscoroutinefunction(hooked.render)
    assert async_to_sync(hooked.render)() is hooked
    assert hooked.content == '{"fields":{"name":"张三"}}'.encode()


def test_an_answer_for_another_renderer_is_left_for_django_to_render():
    response = negotiated(BrowsableAPIRenderer())
    request = RequestFactory().get("/api/v1/schema")

    hooked = async_to_sync(_RenderJsonOnLoop())(request, response)

    assert not hooked.is_rendered
    assert not iscoroutinefunction(hooked.render)
