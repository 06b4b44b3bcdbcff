"""Reconciling the model's answer with the built-in extractor's, field by field.

Both answers arrive in canonical form. For each field:

1. A model value that is not in the OCR text (``ocr.grounding``) is dropped: the model invented
   it, or changed a character of it. So is one found only in a line that reads as an instruction
   or a field assignment ("ignore the previous instructions ... idNumber=..."): such lines are not
   print, and a model that obeyed them is not believed. A value that is a printed label (民族 as
   the ethnicity) is dropped too, and so is one that holds the document's title (a small model
   copies the heading as the name).
2. Where the two agree, the value is kept with a high belief; where only one answers, its value is
   kept with a belief below 0.9 (nothing confirms it); where they differ, the extractor's is kept
   where it was anchored (read beside its label, in the MRZ, or by a pattern whose check holds),
   else the model's, either way with a low belief unless a check decides.
3. A number that fails its validator (check digit) is replaced by the other answer's number where
   that one passes, or else by the one number in the text that passes and differs from it in at
   most two characters.
4. A value that fails a cross-check (a resident id's birth date or sex; a passport's MRZ) is
   replaced by the other answer's value where that one passes it.
5. A value confirmed by a cross-check is believed more.

The beliefs are the input of ``ocr.confidence.field_confidence``, which caps a failing value at 0.3
and lifts a value that passes its check digit; together they keep confidence calibrated: no value
that is wrong more often than not carries 0.9 or more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ocr.grounding import OcrText, compact, fold, index_text, is_grounded, trusted_lines
from ocr.mrz import MrzResult
from ocr.normalize import without_spaces
from ocr.validators import RESIDENT_ID_FIELDS, validate_document, validate_value
from prompts.document_types import DocumentTypeKey, FieldSpec

# Beliefs (the probability a value is right before checks), by how the value was reached.
AGREED = 0.98
MODEL_ONLY = 0.82
RULES_ONLY_CEILING = 0.8
DISAGREED = 0.55
DISPUTED_CEILING = 0.6
FOUND_BY_CHECK = 0.9
CROSS_CHECKED = 0.95
# How far (in characters) a passing number in the text may be from the model's failing one.
MAX_DISTANCE = 2
# How the extractor found a value that it then holds to over the model's different one: beside
# its label, in the MRZ, or by a pattern whose check digit holds.
ANCHORED_SOURCES = frozenset({"label", "mrz", "pattern"})
# How the extractor marks a field that two labelled lines give two values.
CONFLICTING_SOURCE = "conflict"
_LABEL_SPLIT_RE = re.compile(r"[/()（）]")
# The words a document's printed title names it by, in compacted text: a value holding one is
# the heading (a small model copies "Driving License of the People's Republic of China" as the
# name), never a field's value.
_DOCUMENT_TITLE_RE = re.compile(
    r"居民身份证|驾驶证|行驶证|营业执照|护照|PASSPORT|DRIV(?:ING|ERS?)LICEN[CS]E|VEHICLELICEN[CS]E"
)

_CODE_SHAPES = {
    "cn_resident_id": re.compile(r"(?<![0-9A-Z])[0-9]{17}[0-9X](?![0-9A-Z])"),
    "cn_unified_credit_code": re.compile(r"(?<![0-9A-Z])[0-9A-Z]{18}(?![0-9A-Z])"),
    "vin_check_digit": re.compile(r"(?<![0-9A-Z])[0-9A-Z]{17}(?![0-9A-Z])"),
    "luhn": re.compile(r"(?<!\d)\d{13,19}(?!\d)"),
}


@dataclass
class Reconciled:
    """The chosen canonical values, their beliefs, where each came from, and notes for warnings.

    ``sources`` values: "agreed", "model", "rules", "text" (a passing number found in the text).
    """

    values: dict[str, str | None]
    beliefs: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Upper bounds on the final confidence: a value the two answers dispute and no check
    # settled stays doubtful even where it passes its own check digit.
    ceilings: dict[str, float] = field(default_factory=dict)


_MRZ_SPACING_RE = re.compile(r"[\s<\-]")


def _same(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return without_spaces(a).upper() == without_spaces(b).upper()


def _distance(a: str, b: str) -> int:
    """Hamming distance for equal lengths; a large number otherwise."""
    if len(a) != len(b):
        return len(a) + len(b)
    return sum(x != y for x, y in zip(a, b, strict=True))


def passing_numbers_in_text(*, validator: str, text: OcrText) -> set[str]:
    """Every string of the validator's shape in the OCR text (spaces ignored) that passes it."""
    shape = _CODE_SHAPES.get(validator)
    if shape is None:
        return set()
    found: set[str] = set()
    sources = text.digit_runs if validator == "luhn" else text.compact_lines
    for source in sources:
        for match in shape.finditer(source):
            value = match.group()
            if validate_value(validator=validator, value=value).valid:
                found.add(value)
    return found


def _repair_from_text(*, value: str, validator: str, text: OcrText) -> str | None:
    """The one passing number in the text within MAX_DISTANCE characters of ``value``."""
    target = fold(value)
    near = {
        candidate
        for candidate in passing_numbers_in_text(validator=validator, text=text)
        if _distance(fold(candidate), target) <= MAX_DISTANCE
    }
    return near.pop() if len(near) == 1 else None


def _check_failures(
    *,
    document_type: str,
    values: dict[str, str | None],
    specs: Sequence[FieldSpec],
    mrz: MrzResult | None,
) -> dict[str, bool]:
    """{field: check passed} for every non-null field that has a check."""
    checks, _ = validate_document(
        document_type=document_type, fields=values, specs=list(specs), mrz=mrz
    )
    return {key: check.valid for key, check in checks.items() if values.get(key) is not None}


def reconcile(
    *,
    document_type: str,
    specs: Sequence[FieldSpec],
    model: Mapping[str, str | None],
    rules: Mapping[str, str | None],
    rules_confidence: Mapping[str, float],
    text: OcrText,
    mrz: MrzResult | None = None,
    rules_sources: Mapping[str, str] | None = None,
) -> Reconciled:
    """Choose each field's value from the model's and the rules' canonical answers.
    ``rules_sources`` says how the extractor found each of its values (Candidate.source)."""
    result = Reconciled(values={})
    alternatives: dict[str, tuple[str, float, str]] = {}
    trusted = index_text(trusted_lines(text.lines))
    labels = _label_words(specs)
    for spec in specs:
        m, r = model.get(spec.key), rules.get(spec.key)
        m = _admissible(
            spec=spec,
            value=m,
            rules_value=r,
            text=text,
            trusted=trusted,
            labels=labels,
            notes=result.notes,
        )
        rule_belief = min(rules_confidence.get(spec.key, RULES_ONLY_CEILING), RULES_ONLY_CEILING)
        if m is None and r is None:
            chosen: tuple[str | None, float, str] = (None, 0.0, "")
        elif m is None:
            chosen = (r, rule_belief, "rules")
        elif r is None:
            chosen = (m, MODEL_ONLY, "model")
        elif _same(m, r):
            # The extractor's form is the text's own; the model's may differ in spaces only.
            chosen = (r, AGREED, "agreed")
        elif (rules_sources or {}).get(spec.key) in ANCHORED_SOURCES:
            chosen = (r, DISAGREED, "rules")
            alternatives[spec.key] = (m, DISAGREED, "model")
            result.ceilings[spec.key] = DISPUTED_CEILING
        else:
            chosen = (m, DISAGREED, "model")
            alternatives[spec.key] = (r, DISAGREED, "rules")
            result.ceilings[spec.key] = DISPUTED_CEILING
        if (rules_sources or {}).get(spec.key) == CONFLICTING_SOURCE:
            # The text gives two values under the field's label: agreeing on one settles nothing.
            result.ceilings[spec.key] = DISPUTED_CEILING
        result.values[spec.key] = chosen[0]
        if chosen[0] is not None:
            result.beliefs[spec.key] = chosen[1]
            result.sources[spec.key] = chosen[2]

    _repair_validated(result=result, specs=specs, alternatives=alternatives, text=trusted)
    _settle_cross_checks(
        result=result,
        document_type=document_type,
        specs=specs,
        alternatives=alternatives,
        mrz=mrz,
    )
    return result


def _label_words(specs: Sequence[FieldSpec]) -> frozenset[str]:
    """The printed labels of the type's fields (each half of 姓 / Surname), compacted."""
    words = set()
    for spec in specs:
        for part in _LABEL_SPLIT_RE.split(spec.label):
            if compact(part):
                words.add(compact(part))
    return frozenset(words)


def _admissible(
    *,
    spec: FieldSpec,
    value: str | None,
    rules_value: str | None,
    text: OcrText,
    trusted: OcrText,
    labels: frozenset[str],
    notes: list[str],
) -> str | None:
    """The model's value where the text backs it, else None (with a note saying why)."""
    if value is None or _same(value, rules_value):
        # A value the extractor also read is vouched for even where grounding cannot see it.
        return value
    if not is_grounded(value=value, format=spec.format, text=text):
        notes.append(f"{spec.key}: the model's value is not in the text; dropped")
        return None
    if not is_grounded(value=value, format=spec.format, text=trusted):
        notes.append(
            f"{spec.key}: the model's value is only in a line that reads as an instruction; dropped"
        )
        return None
    if spec.format == "text" and compact(value) in labels:
        notes.append(f"{spec.key}: the model's value is a printed label, not a value; dropped")
        return None
    if spec.format == "text" and _DOCUMENT_TITLE_RE.search(compact(value)):
        notes.append(f"{spec.key}: the model's value is the document's title, not a value; dropped")
        return None
    return value


def _repair_validated(
    *,
    result: Reconciled,
    specs: Sequence[FieldSpec],
    alternatives: dict[str, tuple[str, float, str]],
    text: OcrText,
) -> None:
    """Replace a number failing its validator by one that passes: the other answer's, or the
    text's nearest."""
    for spec in specs:
        value = result.values.get(spec.key)
        if not spec.validator or value is None:
            continue
        if validate_value(validator=spec.validator, value=value).valid:
            continue
        other = alternatives.get(spec.key)
        if other and validate_value(validator=spec.validator, value=other[0]).valid:
            _use(result, spec.key, other[0], FOUND_BY_CHECK, other[2])
            result.notes.append(
                f"{spec.key}: the value fails its check; the other answer's passing one was used"
            )
            alternatives.pop(spec.key)
            continue
        repaired = _repair_from_text(value=value, validator=spec.validator, text=text)
        if repaired is not None and repaired != value:
            _use(result, spec.key, repaired, FOUND_BY_CHECK, "text")
            result.notes.append(
                f"{spec.key}: the value fails its check; the passing one in the text was used"
            )
            alternatives.pop(spec.key, None)


def _settle_cross_checks(
    *,
    result: Reconciled,
    document_type: str,
    specs: Sequence[FieldSpec],
    alternatives: dict[str, tuple[str, float, str]],
    mrz: MrzResult | None,
) -> None:
    """Try the other answer for each field failing a check; believe values a cross-check backs."""
    passed = _check_failures(
        document_type=document_type, values=result.values, specs=specs, mrz=mrz
    )
    for spec in specs:
        if passed.get(spec.key, True) or spec.key not in alternatives:
            continue
        other = alternatives[spec.key]
        trial = {**result.values, spec.key: other[0]}
        trial_passed = _check_failures(
            document_type=document_type, values=trial, specs=specs, mrz=mrz
        )
        if trial_passed.get(spec.key) and sum(trial_passed.values()) > sum(passed.values()):
            _use(result, spec.key, other[0], FOUND_BY_CHECK, other[2])
            result.notes.append(
                f"{spec.key}: the value fails a cross-check; the other answer's was used"
            )
            passed = trial_passed
    confirmed = _confirmed(document_type=document_type, values=result.values, mrz=mrz)
    for key in confirmed:
        # A value that a second, independent reading confirms (a birth date that the id number
        # embeds, a surname the MRZ holds) is rarely wrong.
        if key in result.beliefs:
            result.beliefs[key] = max(result.beliefs[key], CROSS_CHECKED)
            result.ceilings.pop(key, None)


_MRZ_ATTRIBUTES = {
    "passportNumber": ("passport_number", "passportNumber"),
    "surname": ("surname", None),
    "givenNames": ("given_names", None),
    "nationality": ("nationality", "composite"),
    "birthDate": ("birth_date", "birthDate"),
    "gender": ("sex", "composite"),
    "expiryDate": ("expiry_date", "expiryDate"),
    "issuingCountry": ("issuing_country", None),
}


def _mrz_form(value: str) -> str:
    return _MRZ_SPACING_RE.sub("", value.upper())


def _confirmed(
    *, document_type: str, values: Mapping[str, str | None], mrz: MrzResult | None
) -> set[str]:
    """Fields whose value a second reading confirms: the birth date and sex embedded in a valid
    resident id number, or an MRZ field (under its check digit where it has one)."""
    confirmed: set[str] = set()
    if document_type in RESIDENT_ID_FIELDS:
        number = values.get(RESIDENT_ID_FIELDS[document_type]) or ""
        if validate_value(validator="cn_resident_id", value=number).valid:
            embedded = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
            if values.get("birthDate") == embedded:
                confirmed.add("birthDate")
            if values.get("gender") == ("male" if int(number[16]) % 2 else "female"):
                confirmed.add("gender")
    elif document_type == DocumentTypeKey.PASSPORT and mrz is not None:
        for key, (attribute, check) in _MRZ_ATTRIBUTES.items():
            value, in_mrz = values.get(key), getattr(mrz, attribute)
            if not value or not in_mrz or (check and not mrz.checks.get(check)):
                continue
            if _mrz_form(value) == _mrz_form(in_mrz):
                confirmed.add(key)
    return confirmed


def _use(result: Reconciled, key: str, value: str, belief: float, source: str) -> None:
    """Take ``value`` for ``key``: a check decided, so the dispute (if any) is settled."""
    result.values[key] = value
    result.beliefs[key] = belief
    result.sources[key] = source
    result.ceilings.pop(key, None)
