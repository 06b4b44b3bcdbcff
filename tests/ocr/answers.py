"""The rules-only answer to a document, as the API gives it, without the HTTP layer."""

from ocr.analysis import fallback_analysis
from ocr.providers.base import Document
from ocr.providers.rules import RulesProvider
from prompts.configuration import get_configuration


def rules_answer(document_type: str, lines: list[str]) -> dict:
    """The rules provider's answer to ``lines`` sent as ``document_type``, as the API returns it."""
    type_config = get_configuration().document_type(document_type)
    document = Document(document_type=document_type, fields=type_config.fields, lines=tuple(lines))
    result = RulesProvider().extract_sync(document=document)
    analysis = fallback_analysis(
        type_config=type_config,
        template=None,
        lines=tuple(lines),
        rules_result=result,
        error=None,
    )
    return analysis.as_response()
