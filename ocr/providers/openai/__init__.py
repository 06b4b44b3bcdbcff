"""Provider "openai": extraction by any OpenAI-compatible Chat Completions endpoint.

- ``client``: the SDK client of each event loop, its connection pools and SSL context;
- ``calls``: one model call (``complete``) with its retries, timeouts and circuit breaker;
- ``batching``: merged calls of several documents, their tokens shared out;
- ``provider``: ``OpenAIProvider`` and the shipped prompts' fallback template.
"""

from ocr.providers.base import MissingItemError
from ocr.providers.openai.calls import Completion, ModelCallError, complete
from ocr.providers.openai.client import endpoint_configured, get_client
from ocr.providers.openai.provider import OpenAIProvider, default_template

__all__ = [
    "Completion",
    "MissingItemError",
    "ModelCallError",
    "OpenAIProvider",
    "complete",
    "default_template",
    "endpoint_configured",
    "get_client",
]
