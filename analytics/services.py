"""The variants of A/B experiments side by side, each compared with the control (the dashboard's
other figures are in ``analytics.dashboard``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Sum

from analytics import stats
from ocr.models import RequestRollup, RollupSpan
from prompts.models import Experiment, ExperimentVariant


def _variant_row(
    *, variant_id: int | None, name: str, template: str, weight: int, total_weight: int
) -> dict[str, Any]:
    return {
        "id": variant_id,
        "variant": name,
        "template": template,
        "weight": weight,
        "share": weight / total_weight if total_weight else None,
        "count": 0,
        "mean_confidence": None,
        "mean_time_ms": None,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": Decimal(0),
        "mean_cost": None,
        "feedback": 0,
        "fields": 0,
        "corrected": 0,
        "accuracy": None,
        "is_control": False,
        "control_reason": None,
        "comparison": None,
        "difference_text": "",
        "verdict": "",
    }


def variant_results(*, experiments: Sequence[Experiment]) -> dict[int, list[dict[str, Any]]]:
    """{experiment id: one row per variant}, over every successful request each experiment
    served (its whole life, whatever the dashboard's period).

    A row holds the variant's ``id``, ``variant`` name, ``template`` and ``weight`` with its traffic
    ``share``; ``count`` requests, ``mean_confidence``, ``mean_time_ms``, ``prompt_tokens``,
    ``completion_tokens``, ``cost`` and ``mean_cost`` (per request); and from the users' feedback
    ``feedback`` (answers with feedback), ``fields`` (fields they covered), ``corrected`` and the
    field ``accuracy`` (None before any feedback). Rows follow the variants' order; a variant name
    the log holds but the experiment no longer has comes last.

    One row ``is_control`` (see ``choose_control``), with its ``control_reason``; every other row
    holds its field accuracy against the control's: ``comparison`` (an ``analytics.stats``
    Comparison), ``difference_text`` (in percentage points with its 95% interval, blank when
    there is too little feedback) and a plain ``verdict`` (see ``verdict_text``). Without a
    control (no variant left) these stay None and blank.
    """
    rows: dict[int, dict[str, dict[str, Any]]] = {}
    for experiment in experiments:
        variants = list(experiment.variants.all())
        total_weight = sum(v.weight for v in variants)
        rows[experiment.pk] = {
            v.name: _variant_row(
                variant_id=v.pk,
                name=v.name,
                template=str(v.template),
                weight=v.weight,
                total_weight=total_weight,
            )
            for v in variants
        }
    # One grouped read of the rollups: what every variant served, with its feedback.
    logged = (
        RequestRollup.objects.filter(
            span=RollupSpan.DAY, experiment_id__in=list(rows), successes__gt=0
        )
        .values("experiment_id", "experiment_variant")
        .annotate(
            count=Sum("successes"),
            confidence_sum=Sum("confidence_sum"),
            latency_ms_sum=Sum("latency_ms_sum"),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            cost=Sum("cost"),
            feedback=Sum("feedback"),
            fields=Sum("feedback_fields"),
            corrected=Sum("corrected_fields"),
        )
        .order_by()
    )
    for entry in logged:
        name = entry.pop("experiment_variant")
        by_name = rows[entry.pop("experiment_id")]
        row = by_name.setdefault(
            name, _variant_row(variant_id=None, name=name, template="", weight=0, total_weight=0)
        )
        row.update(entry)
        row["cost"] = Decimal(row["cost"])
        row["mean_confidence"] = row.pop("confidence_sum") / row["count"]
        row["mean_time_ms"] = row.pop("latency_ms_sum") / row["count"]
        row["mean_cost"] = row["cost"] / row["count"]
    for by_name in rows.values():
        for row in by_name.values():
            if row["fields"]:
                row["accuracy"] = 1 - row["corrected"] / row["fields"]
    for experiment in experiments:
        chosen = choose_control(list(experiment.variants.all()))
        if chosen is not None:
            compare_with_control(
                list(rows[experiment.pk].values()), control=chosen[0].name, reason=chosen[1]
            )
    return {experiment_id: list(by_name.values()) for experiment_id, by_name in rows.items()}


class ControlReason(models.TextChoices):
    """Why a variant is the experiment's control; the label completes "control: …" in the UI."""

    NAMED = "named", "named “control”"
    DEFAULT_TEMPLATE = "default_template", "its template is the type's default"
    FIRST_VARIANT = "first_variant", "the first variant"


def choose_control(
    variants: Sequence[ExperimentVariant],
) -> tuple[ExperimentVariant, ControlReason] | None:
    """The variant the others are compared with, and why; None without variants.

    A variant has no control flag, so: the one named "control" (the name the variant form
    suggests), else the one whose template is the type's default now, else the first by id.
    """
    if not variants:
        return None
    for variant in variants:
        if variant.name.casefold() == "control":
            return variant, ControlReason.NAMED
    # The name wins over the default: promoting a candidate makes its template the default,
    # and the comparison must not swap sides once the experiment is decided.
    for variant in sorted(variants, key=lambda v: v.pk):
        if variant.template.is_default:
            return variant, ControlReason.DEFAULT_TEMPLATE
    return min(variants, key=lambda v: v.pk), ControlReason.FIRST_VARIANT


def _field_counts(row: dict[str, Any]) -> stats.Counts:
    # A hand-edited feedback row can list more corrections than fields: count those as all
    # wrong rather than fail the page.
    return stats.Counts(successes=max(0, row["fields"] - row["corrected"]), trials=row["fields"])


def compare_with_control(
    rows: Sequence[dict[str, Any]], *, control: str, reason: ControlReason
) -> None:
    """Mark the row of the variant named ``control`` and fill every other row's ``comparison``,
    ``difference_text`` and ``verdict`` (field accuracy against the control's), in place."""
    control_row = next((row for row in rows if row["variant"] == control), None)
    if control_row is None:
        return
    control_row["is_control"] = True
    control_row["control_reason"] = reason
    control_counts = _field_counts(control_row)
    for row in rows:
        if row is control_row:
            continue
        comparison = stats.compare(control_counts, _field_counts(row))
        row["comparison"] = comparison
        row["difference_text"] = difference_text(comparison)
        row["verdict"] = verdict_text(comparison)


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def difference_text(comparison: stats.Comparison) -> str:
    """E.g. "+3.1 pts [-0.5, +6.7]": the difference in field accuracy in percentage points and
    its 95% interval; blank where there is too little feedback to say."""
    if comparison.difference is None or comparison.interval is None:
        return ""
    low, high = comparison.interval
    return f"{_points(comparison.difference)} pts [{_points(low)}, {_points(high)}]"


def _p(value: float) -> str:
    return "p<0.001" if value < 0.001 else f"p={value:.3g}"


def _about(count: int) -> int:
    # "About" 12,345 reads as 13,000: two significant figures, rounded up.
    if count < 100:
        return count
    step = 10 ** (len(str(count)) - 2)
    return math.ceil(count / step) * step


def verdict_text(comparison: stats.Comparison) -> str:
    """The comparison in plain words: "better (p=0.0123)", "worse (p=0.04)", "no significant
    difference yet (p=0.21) — about 1,300 more feedback fields needed", or "not enough feedback
    yet"."""
    if comparison.p_value is None:  # NOT_ENOUGH_DATA, the one verdict without figures
        return "not enough feedback yet"
    if comparison.verdict in (stats.Verdict.BETTER, stats.Verdict.WORSE):
        return f"{comparison.verdict} ({_p(comparison.p_value)})"
    text = f"no significant difference yet ({_p(comparison.p_value)})"
    if comparison.more_trials_needed:
        text += f" — about {_about(comparison.more_trials_needed):,} more feedback fields needed"
    return text


def experiment_comparison(*, since: datetime) -> list[dict[str, Any]]:
    """The experiments running now or stopped since ``since``, newest first, each as
    {"experiment": Experiment, "variants": its rows from ``variant_results``}."""
    experiments = list(
        Experiment.objects.recent(since=since)
        .select_related("document_type")
        .prefetch_related("variants__template")
    )
    results = variant_results(experiments=experiments)
    return [{"experiment": e, "variants": results[e.pk]} for e in experiments]
