"""The shipped calibration of the built-in extractor's confidence."""

import json

from ocr.confidence import (
    CALIBRATION_PATH,
    FAILED_CHECK_CEILING,
    REPAIRED_CEILING,
    Provenance,
    calibrated,
    calibration_table,
    field_kind,
    provenance,
)
from ocr.validators import Check
from prompts.document_types import shipped_document_types


def shipped_steps() -> list[tuple[str, str, list]]:
    """(kind, provenance, [upper, calibrated, right, values]) of every shipped step."""
    kinds = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))["kinds"]
    return [
        (kind, origin, step)
        for kind, by_provenance in kinds.items()
        for origin, steps in by_provenance.items()
        for step in steps
    ]


def test_the_shipped_calibration_covers_every_kind_of_field_with_rising_steps():
    table = calibration_table()
    kinds = {field_kind(spec) for specs in shipped_document_types().values() for spec in specs}

    assert kinds <= set(table)
    for by_provenance in table.values():
        assert set(by_provenance) <= set(Provenance)
        for steps in by_provenance.values():
            assert [x for x, _ in steps] == sorted(x for x, _ in steps)
            assert [y for _, y in steps] == sorted(y for _, y in steps)
            assert all(0 <= y < 1 for _, y in steps)


def test_a_shipped_step_never_claims_more_than_its_values_were_right():
    for kind, origin, (_, confidence, right, values) in shipped_steps():
        assert confidence <= right / values, (kind, origin)


def test_a_shipped_step_reaches_0_9_only_where_hundreds_of_its_values_were_99_percent_right():
    confident = [(right, values) for _, _, (_, c, right, values) in shipped_steps() if c >= 0.9]

    assert confident
    assert all(values >= 100 and right / values >= 0.99 for right, values in confident)


def test_a_value_failing_its_check_stays_low_whatever_the_calibration_says():
    failed = Check(False, ["check digit does not match"])

    confidence = calibrated(confidence=0.99, kind="checked", source="label", check=failed)

    assert confidence <= FAILED_CHECK_CEILING


def test_a_repaired_value_stays_below_0_9_whatever_the_calibration_says():
    repaired = Check(True, repaired=True)

    confidence = calibrated(confidence=0.97, kind="checked", source="label", check=repaired)

    assert confidence <= REPAIRED_CEILING


def test_a_kind_without_a_calibration_keeps_its_confidence():
    assert calibrated(confidence=0.77, kind="no such kind", source="label", check=None) == 0.77


def test_a_provenance_the_calibration_was_not_fitted_on_stays_below_0_9():
    # A checked code always has a check, so no checked code is fitted as merely labelled.
    assert Provenance.LABEL not in calibration_table()["checked"]

    assert calibrated(confidence=0.99, kind="checked", source="label", check=None) < 0.9


def test_a_value_is_calibrated_by_its_own_provenance():
    table = calibration_table()["text"]

    by_shape = calibrated(confidence=0.6, kind="text", source="position", check=None)
    by_label = calibrated(confidence=0.6, kind="text", source="label", check=None)

    assert by_shape == table[Provenance.SHAPE][0][1]
    assert by_label == table[Provenance.LABEL][0][1]


def test_a_failed_check_decides_the_provenance_before_where_the_value_was_read():
    failed = Check(False, ["check digit does not match"])

    assert provenance(source="mrz", check=failed) == Provenance.INVALID


def test_a_repair_decides_the_provenance_before_where_the_value_was_read():
    assert provenance(source="mrz", check=Check(True, repaired=True)) == Provenance.REPAIRED


def test_a_value_read_from_the_mrz_is_of_the_mrz():
    assert provenance(source="mrz", check=Check(True)) == Provenance.MRZ


def test_a_labelled_value_whose_check_passes_is_checked():
    assert provenance(source="label", check=Check(True)) == Provenance.CHECK


def test_a_labelled_value_without_a_check_is_label_anchored():
    assert provenance(source="label", check=None) == Provenance.LABEL


def test_a_value_found_by_its_shape_or_place_is_shape_read():
    assert provenance(source="pattern", check=None) == Provenance.SHAPE
    assert provenance(source="position", check=None) == Provenance.SHAPE


def test_two_labelled_lines_giving_two_values_are_a_conflict():
    assert provenance(source="conflict", check=None) == Provenance.CONFLICT
