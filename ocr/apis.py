"""The REST API the mobile app relies on: one view per operation, its serializers beside it."""

from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any

from adrf.views import APIView as AsyncAPIView
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import get_usage
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

import quickvault
from ocr import idempotency, pipeline, quotas
from ocr.api_fields import (
    BatchItemsField,
    CorrectionsField,
    DocumentTypeKeyField,
    RawTextsField,
    StrictCharField,
    unbind,
)
from ocr.auth import ApiClient, SignatureAuthentication, issue_token
from ocr.errors import ApiError, api_error, invalid_request, not_found, payload_too_large
from ocr.exceptions import AnalysisError
from ocr.masking import mask_sensitive
from ocr.models import ApiKey, Feedback, OcrRequest
from ocr.parsers import check_size_limits, storable
from prompts.configuration import Configuration, aget_configuration
from quickvault import circuit
from quickvault.concurrency import together
from quickvault.runtime.turns import off_turn, pause, waiting

logger = logging.getLogger(__name__)

SIGNATURE_HEADERS = [
    OpenApiParameter("X-Api-Key", str, OpenApiParameter.HEADER, description="The key id."),
    OpenApiParameter("X-Timestamp", str, OpenApiParameter.HEADER, description="Unix seconds."),
    OpenApiParameter(
        "X-Nonce", str, OpenApiParameter.HEADER, description="16-64 of [A-Za-z0-9_-]."
    ),
    OpenApiParameter("X-Signature", str, OpenApiParameter.HEADER, description="HMAC-SHA256, hex."),
]

ERROR_SERIALIZER = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.DictField(allow_null=True),
            },
        )
    },
)
ERROR_RESPONSES = {status: ERROR_SERIALIZER for status in (400, 401, 403, 413, 415, 429, 503)}


class AsyncApiView(AsyncAPIView):
    """An async view that authenticates on the event loop and holds one configuration.

    adrf runs DRF's ``initial`` (authentication, permissions, throttles) in a thread for every
    request. Here each authenticator's ``aauthenticate`` is awaited on the loop, beside the
    read of the configuration snapshot (``prompts.configuration``) in the same round trip to the
    cache, and the rest of ``initial``, which then does no I/O, runs inline.
    """

    # Views that serve without staff-edited configuration (health, tokens) skip reading it.
    uses_configuration = True
    configuration: Configuration

    async def async_dispatch(self, request: HttpRequest, *args, **kwargs) -> Response:
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            # One after the other, not gathered: the configuration is kept per worker and is
            # usually read without waiting, and gathering it beside authentication cost the
            # request two turns of the event loop, longer under load than the read.
            await authenticate(request)
            await pause()
            if self.uses_configuration:
                self.configuration = await aget_configuration()
            self.initial(request, *args, **kwargs)
            method = request.method.lower()
            if method in self.http_method_names:
                handler = getattr(self, method, self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            response = handler(request, *args, **kwargs)
            if inspect.isawaitable(response):
                response = await response
        except Exception as exc:
            response = self.handle_exception(exc)
        finally:
            # The request is parsed: its parser context (which holds this view, as this view
            # holds the request) is let go, so that the request's objects go when it ends
            # rather than at the garbage collector's full passes.
            request.parser_context = None
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response


async def authenticate(request: Request) -> None:
    """What DRF's ``Request._authenticate`` does, awaiting each authenticator's
    ``aauthenticate``."""
    for authenticator in request.authenticators:
        try:
            user_auth = await authenticator.aauthenticate(request)
        except exceptions.APIException:
            request._not_authenticated()
            raise
        if user_auth is not None:
            request._authenticator = authenticator
            request.user, request.auth = user_auth
            return
    request._not_authenticated()


def client_key(request: Request) -> ApiKey:
    user = request.user
    assert isinstance(user, ApiClient)
    return user.api_key


def enforce_rate_limit(*, request: Request, api_key: ApiKey, analyses: int) -> None:
    """Count `analyses` against the key's per-minute limit; 429 with Retry-After when over it."""
    if api_key.rate_limit == 0:
        return
    rate = f"{api_key.rate_limit}/m"
    usage = None
    for _ in range(analyses):
        usage = get_usage(
            request._request,
            group="analyze",
            key=lambda group, req: api_key.key_id,
            rate=rate,
            increment=True,
        )
    if usage and usage["should_limit"]:
        retry_after = max(1, int(usage["time_left"]))
        raise ApiError(
            status_code=429,
            code="rate_limited",
            message=f"Over the limit of {api_key.rate_limit} analyses a minute.",
            details={"limit": api_key.rate_limit, "retryAfter": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class AnalyzeOptionsSerializer(serializers.Serializer):
    useCache = serializers.BooleanField(default=True)


class AnalyzeInputSerializer(serializers.Serializer):
    documentType = DocumentTypeKeyField(
        required=False, allow_null=True, allow_blank=True, max_length=64
    )
    rawTexts = RawTextsField()
    options = AnalyzeOptionsSerializer(required=False)

    def validate_rawTexts(self, value: list[str]) -> list[str]:
        if not any(line.strip() for line in value):
            raise serializers.ValidationError("Every line is empty.")
        return value


class AnalyzeOutputSerializer(serializers.Serializer):
    requestId = serializers.UUIDField()
    documentType = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(allow_null=True))
    fieldConfidence = serializers.DictField(child=serializers.FloatField(allow_null=True))
    validation = serializers.DictField()
    confidence = serializers.FloatField()
    warnings = serializers.ListField(child=serializers.CharField())
    template = serializers.DictField(allow_null=True)
    experiment = serializers.DictField(allow_null=True)
    provider = serializers.CharField()
    model = serializers.CharField(allow_null=True)
    cached = serializers.BooleanField()
    processingTimeMs = serializers.IntegerField()
    likelyDocumentType = serializers.CharField(allow_null=True)


def parse_analyze_item(data: Any, *, prefix: str = "") -> pipeline.AnalyzeInput:
    """Validate one analyze request body, raising 413 or 400 in the envelope."""
    if not isinstance(data, dict):
        raise invalid_request(
            "The body must be a JSON object.", {prefix or "body": ["Not an object."]}
        )
    check_size_limits(data, prefix=prefix)
    serializer = AnalyzeInputSerializer(data=data)
    try:
        if not serializer.is_valid():
            details = {f"{prefix}{key}": value for key, value in serializer.errors.items()}
            raise invalid_request("The request is not valid.", details)
        valid = serializer.validated_data
    finally:
        unbind(serializer)
    return pipeline.AnalyzeInput(
        raw_texts=tuple(valid["rawTexts"]),
        document_type=(valid.get("documentType") or "").strip() or None,
        use_cache=valid.get("options", {}).get("useCache", True),
    )


class AnalyzeApi(AsyncApiView):
    @extend_schema(
        operation_id="analyze",
        parameters=[*SIGNATURE_HEADERS, idempotency.SCHEMA_PARAMETER],
        request=AnalyzeInputSerializer,
        responses={
            200: AnalyzeOutputSerializer,
            409: ERROR_SERIALIZER,
            502: ERROR_SERIALIZER,
            504: ERROR_SERIALIZER,
        }
        | ERROR_RESPONSES,
    )
    async def post(self, request: Request) -> Response:
        api_key = client_key(request)
        return await idempotency.respond(
            request=request, key_id=api_key.key_id, serve=lambda: self.serve(request, api_key)
        )

    async def serve(self, request: Request, api_key: ApiKey) -> Response:
        item = parse_analyze_item(request.data)
        if api_key.rate_limit:
            await off_turn(enforce_rate_limit)(request=request, api_key=api_key, analyses=1)
        await quotas.enforce_daily_quotas(api_key=api_key, analyses=1)
        analysis = await pipeline.analyze(
            api_key=api_key, item=item, configuration=self.configuration
        )
        await quotas.record_tokens(api_key=api_key, tokens=quotas.tokens_paid([analysis]))
        return Response(analysis.as_response())


class BatchAnalyzeInputSerializer(serializers.Serializer):
    items = BatchItemsField(child=AnalyzeInputSerializer(), min_length=1)


class BatchAnalyzeApi(AsyncApiView):
    @extend_schema(
        operation_id="batch_analyze",
        parameters=[*SIGNATURE_HEADERS, idempotency.SCHEMA_PARAMETER],
        request=BatchAnalyzeInputSerializer,
        responses={
            200: inline_serializer(
                "BatchAnalyzeOutput",
                {"results": serializers.ListField(child=serializers.DictField())},
            ),
            409: ERROR_SERIALIZER,
        }
        | ERROR_RESPONSES,
    )
    async def post(self, request: Request) -> Response:
        api_key = client_key(request)
        return await idempotency.respond(
            request=request, key_id=api_key.key_id, serve=lambda: self.serve(request, api_key)
        )

    async def serve(self, request: Request, api_key: ApiKey) -> Response:
        data = request.data
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items:
            raise invalid_request(
                "items must be a list of 1 to 20 analyze requests.", {"items": ["Required."]}
            )
        limit = settings.QV_MAX_BATCH_ITEMS
        if len(items) > limit:
            raise payload_too_large(f"More than {limit} items.", {"items": {"maxItems": limit}})
        parsed: list[pipeline.AnalyzeInput | ApiError] = []
        for index, raw in enumerate(items):
            try:
                parsed.append(parse_analyze_item(raw, prefix=f"items[{index}]."))
            except ApiError as error:
                parsed.append(error)
        if api_key.rate_limit:
            await off_turn(enforce_rate_limit)(
                request=request,
                api_key=api_key,
                analyses=sum(1 for item in parsed if not isinstance(item, ApiError)),
            )
        valid = [item for item in parsed if not isinstance(item, ApiError)]
        await quotas.enforce_daily_quotas(api_key=api_key, analyses=len(valid))
        analysed = iter(
            await pipeline.analyze_batch(
                api_key=api_key, items=valid, configuration=self.configuration
            )
        )
        results = [item if isinstance(item, ApiError) else next(analysed) for item in parsed]
        await quotas.record_tokens(api_key=api_key, tokens=quotas.tokens_paid(results))
        return Response({"results": [batch_result(result) for result in results]})


def batch_result(result: pipeline.Analysis | AnalysisError | ApiError) -> dict[str, Any]:
    """Return one item of a batch answer: the analysis, or its error in the envelope."""
    if isinstance(result, AnalysisError):
        result = api_error(result)
    if isinstance(result, ApiError):
        return result.as_dict()
    return result.as_response()


class FeedbackApi(AsyncApiView):
    class InputSerializer(serializers.Serializer):
        requestId = serializers.UUIDField()
        corrections = CorrectionsField(child=StrictCharField(allow_null=True, allow_blank=True))

    @extend_schema(
        operation_id="feedback",
        parameters=SIGNATURE_HEADERS,
        request=InputSerializer,
        responses={204: None, 404: ERROR_SERIALIZER} | ERROR_RESPONSES,
    )
    async def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
            valid = serializer.validated_data
        finally:
            unbind(serializer)
        api_key = client_key(request)
        request_id: uuid.UUID = valid["requestId"]
        async with waiting():
            logged = await OcrRequest.objects.filter(
                request_id=request_id, api_key=api_key
            ).afirst()
        if logged is None:
            raise not_found("No request with that requestId was made with this key.")
        type_config = self.configuration.document_type(logged.document_type)
        specs = {spec.key: spec for spec in type_config.fields} if type_config else {}
        corrections: dict[str, str | None] = valid["corrections"]
        unknown = sorted(set(corrections) - set(specs))
        if unknown:
            raise invalid_request(
                "corrections names fields the document type does not have.",
                {"corrections": [f"Unknown field {key!r}." for key in unknown]},
            )
        defaults = {
            "corrections": storable(
                {
                    key: mask_sensitive(value) if specs[key].sensitive else value
                    for key, value in corrections.items()
                }
            ),
            "corrected_fields": sorted(corrections),
            "field_count": len(specs),
            "created_at": timezone.now(),
        }
        # Feedback sent again for the same request replaces the earlier one.
        async with waiting():
            await Feedback.objects.aupdate_or_create(request=logged, defaults=defaults)
        return Response(status=204)


class TokenApi(AsyncApiView):
    authentication_classes = [SignatureAuthentication]
    uses_configuration = False

    @extend_schema(
        operation_id="auth_token",
        parameters=SIGNATURE_HEADERS,
        request=None,
        responses={
            200: inline_serializer(
                "Token",
                {
                    "accessToken": serializers.CharField(),
                    "tokenType": serializers.CharField(),
                    "expiresIn": serializers.IntegerField(),
                },
            ),
            401: ERROR_SERIALIZER,
        },
    )
    async def post(self, request: Request) -> Response:
        token, ttl = issue_token(client_key(request))
        return Response({"accessToken": token, "tokenType": "Bearer", "expiresIn": ttl})


class DocumentTypeFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    format = serializers.CharField()
    required = serializers.BooleanField()
    sensitive = serializers.BooleanField()
    validator = serializers.CharField(allow_null=True)


class DocumentTypesApi(AsyncApiView):
    class OutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        name = serializers.CharField()
        fields = DocumentTypeFieldSerializer(many=True)

    @extend_schema(
        operation_id="document_types",
        parameters=SIGNATURE_HEADERS,
        responses={200: OutputSerializer(many=True), 401: ERROR_SERIALIZER},
    )
    async def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "key": doc_type.key,
                    "name": doc_type.name,
                    "fields": [
                        {
                            "key": f.key,
                            "label": f.label,
                            "format": f.format,
                            "required": f.required,
                            "sensitive": f.sensitive,
                            "validator": f.validator or None,
                        }
                        for f in doc_type.fields
                    ],
                }
                for doc_type in self.configuration.document_types.values()
            ]
        )


class HealthApi(AsyncApiView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    uses_configuration = False

    @extend_schema(operation_id="health", responses={200: dict, 503: dict})
    async def get(self, request: Request) -> Response:
        database, cache_state, model = await together(
            [sync_to_async(check_database)(), check_cache(), check_model()]
        )
        checks = {"database": database, "cache": cache_state, "model": model}
        if checks["database"] != "ok":
            status = "down"
        elif checks["cache"] != "ok" or checks["model"] not in {"ok", "rules"}:
            status = "degraded"
        else:
            status = "ok"
        body = {"status": status, "checks": checks, "version": quickvault.__version__}
        return Response(body, status=503 if status == "down" else 200)


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        logger.warning("Health check: database unreachable", exc_info=True)
        return "error"


async def check_cache() -> str:
    probe = uuid.uuid4().hex
    try:
        await cache.aset("health:probe", probe, 10)
        return "ok" if await cache.aget("health:probe") == probe else "error"
    except Exception:
        return "error"


async def check_model() -> str:
    """Return "rules" where no model is configured, else its circuit breaker's state."""
    if not pipeline.uses_model():
        return "rules"
    state = await circuit.state(circuit.openai_breaker())
    return "ok" if state == circuit.CircuitState.CLOSED else f"circuit_{state}"
