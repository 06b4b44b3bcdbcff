"""Scoring of extraction results and the evaluation command line."""

import json

from ocr.evaluation import main, score_cases, values_match

CASES = [
    {
        "id": "a",
        "documentType": "idCard",
        "rawTexts": ["姓名 张三"],
        "expected": {"name": "张三", "address": None},
    },
    {
        "id": "b",
        "documentType": "bankCard",
        "rawTexts": ["x"],
        "expected": {"cardNumber": "6216 6116", "bankName": None},
    },
]


def test_values_match_ignores_width_space_and_case():
    assert values_match("ANNA MARIA", "anna  maria")
    assert values_match("有限责任公司(自然人独资)", "有限责任公司（自然人独资）")


def test_values_match_none_only_matches_none():
    assert values_match(None, None)
    assert not values_match(None, "")
    assert not values_match("x", None)


def test_score_counts_fields_documents_and_inventions():
    answers = {"a": {"name": "张三", "address": "北京"}, "b": {"cardNumber": "62166116"}}
    report = score_cases(CASES, lambda case: answers[case["id"]])
    assert report["fieldAccuracy"] == 0.75
    assert report["documentAccuracy"] == 0.5
    assert report["inventedRate"] == 0.5
    assert report["byDocumentType"]["idCard"]["byField"] == {"name": 1.0, "address": 0.0}
    assert report["byDocumentType"]["bankCard"]["documentAccuracy"] == 1.0
    assert report["cases"][0]["wrongFields"] == ["address"]
    assert report["cases"][1]["extracted"] == {"cardNumber": "62166116", "bankName": None}


def test_score_reports_progress():
    ticks = []
    score_cases(CASES, lambda case: {}, progress=ticks.append)
    assert ticks == [1, 1]


def test_cli_prints_the_table_and_writes_the_report(tmp_path, capsys):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in CASES), encoding="utf-8")
    report = tmp_path / "report.json"
    assert main([str(cases), "--detect", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "field accuracy" in out
    assert "type detection" in out
    assert json.loads(report.read_text(encoding="utf-8"))["cases"][0]["id"] == "a"
