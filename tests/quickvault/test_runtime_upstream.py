"""Fails when the framework code that quickvault/runtime (and ocr/apis.py) mirrors changes upstream.

Each workaround copies, or leans on, private code of Django, asgiref, django-redis, DRF, adrf, the
middlewares it runs inline and the OpenAI SDK's vendored aiohttp transport. Their sources are
pinned here by sha256, with the versions they were pinned on; an upgrade that changes one fails
this test instead of breaking the fast path silently. To re-pin after checking (see
quickvault/runtime/README.md):

    .venv/bin/python -m tests.quickvault.test_runtime_upstream

prints the current table; paste it over PINNED_VERSIONS and PINNED below.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
from dataclasses import dataclass
from importlib.metadata import version

import django
import pytest

HOW_TO_REPIN = (
    "Read the upstream change (compare the two versions' sources), bring {where} in line with "
    "it (or set QV_FAST_API_PATH=0 until it is), then re-pin: "
    "`.venv/bin/python -m tests.quickvault.test_runtime_upstream` prints the table to paste "
    "into PINNED_VERSIONS and PINNED of tests/quickvault/test_runtime_upstream.py."
)

# The feature release whose handler, middleware loading and cache API the workarounds mirror.
DJANGO_FEATURE_RELEASE = (5, 2)


@dataclass(frozen=True)
class Workaround:
    """A workaround, where it lives, and the upstream code ("module:qualname") it mirrors or
    relies on."""

    name: str
    where: str
    upstream: tuple[str, ...]


WORKAROUNDS = (
    Workaround(
        name="the ASGI handler sends the request signals on the event loop",
        where="quickvault/runtime/handler.py (QuickVaultASGIHandler, send_signal, close_response, "
        "get_application)",
        upstream=(
            "django.core.handlers.asgi:ASGIHandler.__init__",
            "django.core.handlers.asgi:ASGIHandler.__call__",
            "django.core.handlers.asgi:ASGIHandler.handle",
            "django.core.handlers.asgi:ASGIHandler.run_get_response",
            "django.core.asgi:get_asgi_application",
            "django.dispatch.dispatcher:Signal.asend",
            "django.dispatch.dispatcher:Signal._live_receivers",
            "django.http.response:HttpResponseBase.close",
        ),
    ),
    Workaround(
        name="one database thread per worker for the API's synchronous calls",
        where="quickvault/runtime/handler.py (ApiSyncExecutor, release_connections, "
        "QuickVaultASGIHandler.__init__ and __call__)",
        upstream=(
            "asgiref.sync:SyncToAsync.__call__",
            "asgiref.sync:ThreadSensitiveContext.__aenter__",
            "asgiref.sync:ThreadSensitiveContext.__aexit__",
            "django.db:close_old_connections",
            "django.db.backends.base.base:BaseDatabaseWrapper.close_if_unusable_or_obsolete",
            "django.utils.connection:BaseConnectionHandler.all",
        ),
    ),
    Workaround(
        name="the API's middleware chain, rebuilt to run on the event loop",
        where="quickvault/runtime/middleware_chain.py (build_api_chain, _InlineMixin, "
        "_InlineHook) and QuickVaultASGIHandler.load_middleware",
        upstream=(
            "django.core.handlers.base:BaseHandler.load_middleware",
            "django.core.handlers.base:BaseHandler._get_response_async",
            "django.core.handlers.base:BaseHandler.check_response",
            "django.core.handlers.base:BaseHandler.process_exception_by_middleware",
            "django.core.handlers.exception:convert_exception_to_response",
            "django.utils.deprecation:MiddlewareMixin.__init__",
            "django.utils.deprecation:MiddlewareMixin.__call__",
            "django.utils.deprecation:MiddlewareMixin.__acall__",
            "whitenoise.middleware:WhiteNoiseMiddleware.__call__",
        ),
    ),
    Workaround(
        name="the API's JSON answers are rendered on the event loop",
        where="quickvault/runtime/middleware_chain.py (_RenderJsonOnLoop, _Rendered)",
        upstream=(
            "django.template.response:SimpleTemplateResponse.render",
            "rest_framework.response:Response.rendered_content",
            "rest_framework.renderers:JSONRenderer.render",
        ),
    ),
    Workaround(
        name="the middlewares run inline do no I/O for an API request",
        where="quickvault/runtime/middleware_chain.py (_InlineMixin runs their hooks on the "
        "event loop)",
        upstream=(
            "django.middleware.security:SecurityMiddleware",
            "django.middleware.common:CommonMiddleware",
            "django.middleware.csrf:CsrfViewMiddleware",
            "django.middleware.clickjacking:XFrameOptionsMiddleware",
            "django_prometheus.middleware:PrometheusBeforeMiddleware",
            "django_prometheus.middleware:PrometheusAfterMiddleware",
        ),
    ),
    Workaround(
        name="the local-memory cache answers async calls inline",
        where="quickvault/runtime/cache.py (InlineLocMemCache)",
        upstream=(
            "django.core.cache.backends.locmem:LocMemCache",
            "django.core.cache.backends.base:BaseCache.aadd",
            "django.core.cache.backends.base:BaseCache.aget",
            "django.core.cache.backends.base:BaseCache.aset",
            "django.core.cache.backends.base:BaseCache.atouch",
            "django.core.cache.backends.base:BaseCache.adelete",
            "django.core.cache.backends.base:BaseCache.aget_many",
            "django.core.cache.backends.base:BaseCache.aget_or_set",
            "django.core.cache.backends.base:BaseCache.ahas_key",
            "django.core.cache.backends.base:BaseCache.aincr",
            "django.core.cache.backends.base:BaseCache.adecr",
            "django.core.cache.backends.base:BaseCache.aset_many",
            "django.core.cache.backends.base:BaseCache.adelete_many",
            "django.core.cache.backends.base:BaseCache.aclear",
        ),
    ),
    Workaround(
        name="the Redis cache talks redis.asyncio for async calls",
        where="quickvault/runtime/cache.py (AsyncRedisCache)",
        upstream=(
            "django_redis.cache:RedisCache.__init__",
            "django_redis.cache:omit_exception",
            "django_redis.client.default:DefaultClient.make_key",
            "django_redis.client.default:DefaultClient.encode",
            "django_redis.client.default:DefaultClient.decode",
            "django_redis.client.default:DefaultClient.set",
            "django_redis.client.default:DefaultClient.add",
            "django_redis.client.default:DefaultClient.get",
            "django_redis.client.default:DefaultClient.get_many",
            "django_redis.client.default:DefaultClient.set_many",
            "django_redis.client.default:DefaultClient.delete",
            "django_redis.client.default:DefaultClient.delete_many",
            "django_redis.client.default:DefaultClient.has_key",
            "django_redis.client.default:DefaultClient.touch",
            "django_redis.client.default:DefaultClient._incr",
            "django_redis.client.default:DefaultClient.clear",
            "django_redis.pool:ConnectionFactory.make_connection_params",
            "django_redis.pool:ConnectionFactory.get_or_create_connection_pool",
        ),
    ),
    Workaround(
        name="short SQLite writes of API requests run on the event loop",
        where="quickvault/runtime/loop_writes.py (write_soon, sqlite_file, "
        "_connection: placeholders, connection settings and in-memory names as Django's)",
        upstream=(
            "django.db.backends.sqlite3.base:SQLiteCursorWrapper",
            "django.db.backends.sqlite3.base:DatabaseWrapper.get_new_connection",
            "django.db.backends.sqlite3.creation:DatabaseCreation.is_in_memory_db",
        ),
    ),
    Workaround(
        name="the model client's exchange is awaited without the request's turn",
        where="quickvault/runtime/model_transport.py (model_transport, ExchangeOutsideTurn)",
        upstream=(
            "openai._vendor.httpx_aiohttp.transport:AiohttpTransport.__init__",
            "openai._vendor.httpx_aiohttp.transport:AiohttpTransport.handle_async_request",
            "openai._vendor.httpx_aiohttp.client:Httpx2AiohttpClient._init_transport",
        ),
    ),
    Workaround(
        name="API views authenticate on the event loop",
        where="ocr/apis.py (AsyncApiView.async_dispatch, authenticate)",
        upstream=(
            "adrf.views:APIView.async_dispatch",
            "adrf.views:APIView.initialize_request",
            "adrf.views:APIView.check_permissions",
            "adrf.views:APIView.check_throttles",
            "adrf.requests:AsyncRequest",
            "rest_framework.request:Request._not_authenticated",
            "rest_framework.views:APIView.initial",
            "rest_framework.views:APIView.perform_authentication",
        ),
    ),
)

# The packages whose code is pinned.
PACKAGES = (
    "django",
    "asgiref",
    "django-redis",
    "djangorestframework",
    "adrf",
    "django-prometheus",
    "whitenoise",
    "openai",
)

# The versions the sources below were read from.
PINNED_VERSIONS = {
    "django": "5.2.19",
    "asgiref": "3.13.0",
    "django-redis": "7.0.0",
    "djangorestframework": "3.18.3",
    "adrf": "0.1.14",
    "django-prometheus": "2.5.0",
    "whitenoise": "6.12.0",
    "openai": "3.57.0",
}

# sha256 of inspect.getsource() of each upstream name.
PINNED = {
    "django.core.handlers.asgi:ASGIHandler.__init__": (
        "41379d4f4b69f900b62a201a442d0721c965e26906a6a64f11c8b846bf3b3a38"
    ),
    "django.core.handlers.asgi:ASGIHandler.__call__": (
        "f756809e9c9308dcccb78a301fccf09196e80cdc4745690f80384d09b69dd102"
    ),
    "django.core.handlers.asgi:ASGIHandler.handle": (
        "98faeb5bef800331e6a8002fbc96b30e4122a23438ae45a047190a531ea11323"
    ),
    "django.core.handlers.asgi:ASGIHandler.run_get_response": (
        "0234ea5fe09a577785a5f895752910cbb439f5e28ebb53bdd27247251c00e6ef"
    ),
    "django.core.asgi:get_asgi_application": (
        "5f47704332ead684b772c1d321232112231737bee23d89288bddfeacba0f6cf5"
    ),
    "django.dispatch.dispatcher:Signal.asend": (
        "b27a0e4474a615690bf8bf2c6ba9bf6709c08fb63cb6ed4546a41a8a0ba1a368"
    ),
    "django.dispatch.dispatcher:Signal._live_receivers": (
        "0a7af5d851f7fd8789bc95621f84ff0289b143671344692da26c68903a79caff"
    ),
    "django.http.response:HttpResponseBase.close": (
        "84589f5b23acbb23aa9010f3506ef411b72b1053f2fc2764590e2b3bf3470438"
    ),
    "asgiref.sync:SyncToAsync.__call__": (
        "6376e33c6d3d94c58df80c3f2386c38401d19a543d08626a34721abe309845f6"
    ),
    "asgiref.sync:ThreadSensitiveContext.__aenter__": (
        "b0355bf6b275a7c21e22e80892e0aa84438fc1485469d0e75e333ea955c127f4"
    ),
    "asgiref.sync:ThreadSensitiveContext.__aexit__": (
        "5571fec562fa6e843ccb08e60deb367905ecfdf621077e952430d9a52401f0b5"
    ),
    "django.db:close_old_connections": (
        "c352dd45e8333c97d83fb0905f187e31475cb3d8bb9308611077febb6e21deb6"
    ),
    "django.db.backends.base.base:BaseDatabaseWrapper.close_if_unusable_or_obsolete": (
        "9e0690a760eb710d7259a5878f6fd2052dd2718f95d7f64931526a6554be1a51"
    ),
    "django.utils.connection:BaseConnectionHandler.all": (
        "025dd23cb80fcc62a12cd8c996fe8ef7b967a96758650452f6eceb3276a00606"
    ),
    "django.core.handlers.base:BaseHandler.load_middleware": (
        "a1fb7ee5f8586195da2174d1bbc2bbfc7ca19b9d26ea66412cb434f45bf6d467"
    ),
    "django.core.handlers.base:BaseHandler._get_response_async": (
        "064b55bfd55fc38d1157dfe3997f9d675392168da4d48cbed33d8fb0c4930aea"
    ),
    "django.core.handlers.base:BaseHandler.check_response": (
        "e1e8624829fb2acd270c6a484338408f2b8ee576de748bdc0aa53a0c233802d9"
    ),
    "django.core.handlers.base:BaseHandler.process_exception_by_middleware": (
        "44eeb9df97bfd37359edeb38c464cf634b101acb6860290edf9a1f9ec69c21e0"
    ),
    "django.core.handlers.exception:convert_exception_to_response": (
        "a297ae868bddaca2e7a82847cb707105b2a23ded927d6609f6832901db45758e"
    ),
    "django.utils.deprecation:MiddlewareMixin.__init__": (
        "cd0d3fd41f9408eb3b74ee620ad1ebbd0d551121be1db06b3e0003b90929682c"
    ),
    "django.utils.deprecation:MiddlewareMixin.__call__": (
        "337be048dd62e01485fd5afaf5b79c473287430ccf369ff9dd80bb8f84fa569f"
    ),
    "django.utils.deprecation:MiddlewareMixin.__acall__": (
        "adf8cbcaf9f11e45c4ac1953556ac422f2a6fe4193df5edbed186b2b66bea729"
    ),
    "whitenoise.middleware:WhiteNoiseMiddleware.__call__": (
        "538b06958308b801b205f7495dd97176dbf4e6f93ed8a3cf495b4b8e631ff73a"
    ),
    "django.template.response:SimpleTemplateResponse.render": (
        "1a1d6709c9d7c95f26178628ecfdc4b853b1fb3fa5d033e62c2871f852341bca"
    ),
    "rest_framework.response:Response.rendered_content": (
        "7e84b67b1c8377e717bfc9cb21dfb3579ef76499f91b641fa476cb912cf7c346"
    ),
    "rest_framework.renderers:JSONRenderer.render": (
        "9a136d750c0b09d1c9c98f290caf9e8aac99872dcc1e93bf14d7fcf47f8f5ab1"
    ),
    "django.middleware.security:SecurityMiddleware": (
        "7c0daafdd127de47ad2bb47f63a6c4cb7b77ca64fa0102c8bf35ae54bfe8d15d"
    ),
    "django.middleware.common:CommonMiddleware": (
        "0a9411bc1510a38cb8bca40c49c548482598593939e76e9ca20609ad8bf8cc04"
    ),
    "django.middleware.csrf:CsrfViewMiddleware": (
        "461e7a1110dea43fffad25fd756dbcdf5d8ea6d616fe157537a39951dcdd995d"
    ),
    "django.middleware.clickjacking:XFrameOptionsMiddleware": (
        "b005c3dcd16801e1f195424685998882d855be76154b4571fb9e391f47b12865"
    ),
    "django_prometheus.middleware:PrometheusBeforeMiddleware": (
        "d51f5414a1f1292424a9c8e6ee32f238310bf54f55e8b6596faf397a4e24b681"
    ),
    "django_prometheus.middleware:PrometheusAfterMiddleware": (
        "8835fb795e95e0fe04ff7a691e733234caf2391a211d3f0bb5d11081eaf089a9"
    ),
    "django.core.cache.backends.locmem:LocMemCache": (
        "01c4afac57e91bd19cd45c1d6868ded8267d6e13f41174e782dd1268e360648e"
    ),
    "django.core.cache.backends.base:BaseCache.aadd": (
        "9fe5107224ccb7e17faaebc9930127a58a0013bc341973fd5bccfe399b1852ad"
    ),
    "django.core.cache.backends.base:BaseCache.aget": (
        "93bd75a01ceefaa7e0b23655f82dfcb5831e92eabbdc97748b982592ec8d1540"
    ),
    "django.core.cache.backends.base:BaseCache.aset": (
        "b9a5befce80e660adc6c583ce944b28006e04bb2fe5a67a06e4597fde8877284"
    ),
    "django.core.cache.backends.base:BaseCache.atouch": (
        "53b1f100042b50b99ff36d4ec906dd5f5cd5ddc26a8057a8acf3af7f228b9f00"
    ),
    "django.core.cache.backends.base:BaseCache.adelete": (
        "26bf669d8107ffb89b2dbc581838390a847ec91febc5addc4b7902b997d79000"
    ),
    "django.core.cache.backends.base:BaseCache.aget_many": (
        "1f37fa430c911953931f1a91b09e422c991b341169da4432ec57c6323b35caef"
    ),
    "django.core.cache.backends.base:BaseCache.aget_or_set": (
        "a56c7e7e5128c7efed75d989f4d98d151875e066be3f2f8142a87be0c3062b12"
    ),
    "django.core.cache.backends.base:BaseCache.ahas_key": (
        "92eb7a385ccf9aa6a21febaad6f8409424c0a8caf0311837de4902fe0c34e311"
    ),
    "django.core.cache.backends.base:BaseCache.aincr": (
        "6f41ec5ae63ede5ad24d5c813fd8b4dc4722dab9aa2c3aafd2fff4fbaebb3167"
    ),
    "django.core.cache.backends.base:BaseCache.adecr": (
        "c150a8aec64d78208de0093b9d33218a717bba568d60d13c34310b40c317ba79"
    ),
    "django.core.cache.backends.base:BaseCache.aset_many": (
        "ba75a8a9756a0af674a118444d38732e67a0066ca81e60671c223aff09d6c90d"
    ),
    "django.core.cache.backends.base:BaseCache.adelete_many": (
        "0399d56a9b12be6a61c76e80425140ab4c15776615a8dc80fd5b0748c39e9bc1"
    ),
    "django.core.cache.backends.base:BaseCache.aclear": (
        "28502cd1fe5ceff995d938f6d1ca83ca51a3cb44cb2ab2827b9f14ae4e2f469a"
    ),
    "django_redis.cache:RedisCache.__init__": (
        "0ddef93af5a8c36ad6579806c27c31f7c1944c0634392c7232b6dc0ac82febec"
    ),
    "django_redis.cache:omit_exception": (
        "4e390989483c39fd9d0cd62e33212dd037bbefb78fc29e87fc7b63925525fa5d"
    ),
    "django_redis.client.default:DefaultClient.make_key": (
        "47f8517bf98dd6a61785262787aa72b80330984ebaf11ed33a6b3bf3dd67c118"
    ),
    "django_redis.client.default:DefaultClient.encode": (
        "1f9bfae68255a90b0f45cdf95e8d99a6a6e5e4bcf6514f24aea4cee29d32bb0e"
    ),
    "django_redis.client.default:DefaultClient.decode": (
        "47f2149cabb698d30c78521f26a34a1fd7c0062df5f5b0bf4900724f74e0089b"
    ),
    "django_redis.client.default:DefaultClient.set": (
        "eda22e00cfd511e4f5db96e0da939eb29222723477d7c81f24ed635ec504a1cc"
    ),
    "django_redis.client.default:DefaultClient.add": (
        "9e8820b009939ddbf19b92b00a73a61e0f2a8bcc14c0d35447e7226f05e5558c"
    ),
    "django_redis.client.default:DefaultClient.get": (
        "716fa63b31af1ad82863dac9cb0873d3daf5bcfc824f11d896dabd13402a9540"
    ),
    "django_redis.client.default:DefaultClient.get_many": (
        "4a665bcd3c3622bb6f79d60ada52431d41558d0c715ec935fb0a9220ff102533"
    ),
    "django_redis.client.default:DefaultClient.set_many": (
        "386db290a96352621dff5a8258938df428594831b62766e29d04bef4553947c4"
    ),
    "django_redis.client.default:DefaultClient.delete": (
        "54474c280fccae8c99a5ff4d293f0cc058df578767da2ae6c34837fa723a8793"
    ),
    "django_redis.client.default:DefaultClient.delete_many": (
        "48b9a50c27578ef194d20b646cbaae4d4e2f6294631695f813e4c467676e633b"
    ),
    "django_redis.client.default:DefaultClient.has_key": (
        "f403aeeeb9240183a20fc79c6953d78b9c72f003a228e81737efb54749642abd"
    ),
    "django_redis.client.default:DefaultClient.touch": (
        "d875d5c449b6e3621e2a9a2dbc767b1ce57a91c6407fc852a7af1bb0b32094a2"
    ),
    "django_redis.client.default:DefaultClient._incr": (
        "74d7f57e3ec1fcf6a23cce453f63bc4c5e249fb162dcf0322dab5b5cf3e9d0e5"
    ),
    "django_redis.client.default:DefaultClient.clear": (
        "7557f6834fe289332a3c62bb8bb1403e9bc0835a077027e23920845304a20727"
    ),
    "django_redis.pool:ConnectionFactory.make_connection_params": (
        "ffae1010fa8c6d0a9dcdf157cc2caa81b1a177eca775632486d818c05355d8a2"
    ),
    "django_redis.pool:ConnectionFactory.get_or_create_connection_pool": (
        "2e7bb05b5d910c730390e9f3d7c4243bfd72f1ae8b8123e4d77c7449965ffa51"
    ),
    "django.db.backends.sqlite3.base:SQLiteCursorWrapper": (
        "48f67df372beca0b1c83ac8b8116b22380506219acd9ba73d5b12ea2c187adc5"
    ),
    "django.db.backends.sqlite3.base:DatabaseWrapper.get_new_connection": (
        "99ddcd0012130edd98ad85bc9354b476fb061c0a84561f05a4fb221265c1c381"
    ),
    "django.db.backends.sqlite3.creation:DatabaseCreation.is_in_memory_db": (
        "de9a9f1f40284b135dcb9d4378919e4b15cbc765dcab174e66a6ef05ac2ec540"
    ),
    "openai._vendor.httpx_aiohttp.transport:AiohttpTransport.__init__": (
        "e8e373852473a87ca47006c94ad55c118ef148b142d36e3cc7903bfe802e2e6f"
    ),
    "openai._vendor.httpx_aiohttp.transport:AiohttpTransport.handle_async_request": (
        "685989131a3a46dc3a08c7fcc3b544ab6582868d222adc7706b75e9e0b028e11"
    ),
    "openai._vendor.httpx_aiohttp.client:Httpx2AiohttpClient._init_transport": (
        "34d437ae77e75e9dfd4182707ac99f3657fe12c50fcba5752cab0dcf2a24beec"
    ),
    "adrf.views:APIView.async_dispatch": (
        "5926f734eb685633df0c80f431d70f15451e7c57b464fec59295c94db9b10718"
    ),
    "adrf.views:APIView.initialize_request": (
        "799fe97b78c1d5bb0836ca05fa3a24bdecbbe60f81ffb9e345de7dfb96d6022e"
    ),
    "adrf.views:APIView.check_permissions": (
        "46a7e2b28cae87c720e13c7f170236d668f07c5eb46e0726ff4250765113ac9f"
    ),
    "adrf.views:APIView.check_throttles": (
        "ace65f7d9db5d5d308dc34897e9be6959d7c8dc8e7af78c6b342af3d7ed14da5"
    ),
    "adrf.requests:AsyncRequest": (
        "f715f144de30c545335ec7e9434be1dd2e165e007d95a8e5f4a3aad434e1f83b"
    ),
    "rest_framework.request:Request._not_authenticated": (
        "161d9c59bd6cfe3bd8df2efa36ae58c22225469f2b288d2bc619892a38366c04"
    ),
    "rest_framework.views:APIView.initial": (
        "49a4a966fb04ec8a617151a306a0e96f05c13991745058126fe78b13385a4df5"
    ),
    "rest_framework.views:APIView.perform_authentication": (
        "37dd6c883a68a5842a34429018ccbe55758aebc82b11fde9503b7cad77f5ad01"
    ),
}


def resolve(name: str) -> object:
    """The object "module:qualname" names; a property stands for its getter."""
    module_name, _, qualname = name.partition(":")
    found: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = inspect.getattr_static(found, part)
    if isinstance(found, property):
        return found.fget
    if isinstance(found, staticmethod | classmethod):
        return found.__func__
    return found


def source_hash(name: str) -> str:
    """sha256 of the source of `name` as installed, or "missing" where it is gone."""
    try:
        source = inspect.getsource(resolve(name))
    except (ImportError, AttributeError, TypeError, OSError):
        return "missing"
    return hashlib.sha256(source.encode()).hexdigest()


def installed_versions() -> dict[str, str]:
    return {package: version(package) for package in PACKAGES}


def upstream_names() -> list[str]:
    return [name for workaround in WORKAROUNDS for name in workaround.upstream]


def test_every_upstream_name_is_pinned_once():
    names = upstream_names()

    assert len(names) == len(set(names))
    assert set(names) == set(PINNED)


def test_django_is_the_feature_release_the_workarounds_mirror():
    assert django.VERSION[:2] == DJANGO_FEATURE_RELEASE, (
        f"Django {django.get_version()} is not the {DJANGO_FEATURE_RELEASE} the fast path "
        "mirrors: re-check every workaround of quickvault/runtime/README.md against it (new "
        "handler behaviour may sit outside the pinned functions), then set "
        "DJANGO_FEATURE_RELEASE and re-pin. " + HOW_TO_REPIN.format(where="quickvault/runtime")
    )


@pytest.mark.parametrize("workaround", WORKAROUNDS, ids=lambda workaround: workaround.name)
def test_the_upstream_code_a_workaround_mirrors_is_the_pinned_code(workaround: Workaround):
    changed = [name for name in workaround.upstream if source_hash(name) != PINNED.get(name)]

    assert not changed, (
        f"The fast path's workaround '{workaround.name}' ({workaround.where}) mirrors upstream "
        f"code that is not what it was pinned on: {', '.join(changed)}. Pinned on "
        f"{PINNED_VERSIONS}; installed {installed_versions()}. "
        + HOW_TO_REPIN.format(where=workaround.where)
    )


def print_pins() -> None:
    """Print PINNED_VERSIONS and PINNED as the installed packages have them."""
    print("PINNED_VERSIONS = {")
    for package in PACKAGES:
        print(f'    "{package}": "{version(package)}",')
    print("}")
    print()
    print("PINNED = {")
    for name in upstream_names():
        print(f'    "{name}": (\n        "{source_hash(name)}"\n    ),')
    print("}")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")
    django.setup()
    print_pins()
