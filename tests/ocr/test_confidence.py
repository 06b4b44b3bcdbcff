"""The shipped calibration of the built-in extractor's confidence."""

from ocr.confidence import (
    FAILED_CHECK_CEILING,
    REPAIRED_CEILING,
    calibrated,
    calibration_table,
    field_kind,
)
from ocr.validators import Check
from prompts.document_types import shipped_document_types


def test_the_shipped_calibration_covers_every_kind_of_field_with_rising_steps():
    table = calibration_table()
    kinds = {field_kind(spec) for specs in shipped_document_types().values() for spec in specs}

    assert kinds <= set(table)
    for steps in table.values():
        assert [x for x, _ in steps] == sorted(x for x, _ in steps)
        assert [y for _, y in steps] == sorted(y for _, y in steps)
        assert all(0 <= y < 1 for _, y in steps)


def test_a_value_the_extractor_was_unsure_of_stays_below_the_confident_band():
    for kind in calibration_table():
        assert calibrated(confidence=0.85, kind=kind, check=None) < 0.9


def test_a_value_failing_its_check_stays_low_whatever_the_calibration_says():
    failed = Check(False, ["check digit does not match"])

    assert calibrated(confidence=0.99, kind="checked", check=failed) <= FAILED_CHECK_CEILING


def test_a_repaired_value_stays_below_0_9_whatever_the_calibration_says():
    repaired = Check(True, repaired=True)

    assert calibrated(confidence=0.97, kind="checked", check=repaired) <= REPAIRED_CEILING


def test_a_kind_without_a_calibration_keeps_its_confidence():
    assert calibrated(confidence=0.77, kind="no such kind", check=None) == 0.77
