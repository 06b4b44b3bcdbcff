"""A prompt engineer's day in a real browser, with the local model server answering: a new
version from the default, an edit, the diff, an evaluation with its progress, a refused
activation naming both figures, activation after a better run, a rollback, an A/B experiment to
promotion, and a playground run."""

import json

import pytest

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from ocr.evaluation_runs import new_run, run_evaluation
from ocr.models import OcrRequest
from prompts.models import DocumentType, PromptTemplate, Release, TestSet
from tests.browser import click_through, log_in, open_page
from tests.fakes.openai_server import malformed

# More than the calls of the set's cases with every retry.
EVERY_CALL = 40


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_prompt_engineer_releases_a_better_version_through_the_gate(
    live_server, admin_user, fake_openai
):
    cases = [c for c in load_cases(SAMPLE_SET) if c["documentType"] == "bankCard"][:3]
    fake_openai.add_cases(cases)
    gate = TestSet.objects.create(name="gate")
    gate.import_jsonl("".join(json.dumps(c) + "\n" for c in cases), known_types={"bankCard"})
    DocumentType.objects.filter(key="bankCard").update(gate_test_set=gate)
    default = PromptTemplate.objects.defaults().for_type("bankCard").get()
    run_evaluation(run_id=new_run(template=default, test_set=gate).pk)
    admin = f"{live_server.url}/admin/prompts"
    seen: dict[str, str] = {}

    for page in open_page():
        log_in(page, base_url=live_server.url, username="admin", password="password")

        # A new version from the default, edited, compared.
        page.goto(f"{admin}/prompttemplate/{default.pk}/change/")
        click_through(page, "input[value='Save as new version']")
        seen["created"] = page.inner_text("ul.messagelist")
        page.fill("#id_system_prompt", "Read the card. Answer in JSON.")
        click_through(page, "input[name=_continue]")
        first = page.url
        click_through(page, "text=Compare with the default")
        seen["diff"] = page.inner_text("#content-main")

        # Evaluated while the model answers nothing usable: refused, naming both figures.
        page.go_back()
        click_through(page, "text=Evaluate on a test set")
        page.select_option("#id_test_set", label="gate")
        fake_openai.script(*[malformed()] * EVERY_CALL)
        click_through(page, "input[value='Start the evaluation']")
        fake_openai.reset()
        seen["progress"] = page.inner_text("#run-progress")
        page.goto(first)
        click_through(page, "#activate-link")
        seen["refused"] = page.inner_text("#gate-verdict")

        # Another version, evaluated with the model answering, is released.
        page.goto(f"{admin}/prompttemplate/{default.pk}/change/")
        click_through(page, "input[value='Save as new version']")
        second = page.url
        click_through(page, "text=Evaluate on a test set")
        page.select_option("#id_test_set", label="gate")
        click_through(page, "input[value='Start the evaluation']")
        page.goto(second)
        click_through(page, "#activate-link")
        seen["passed"] = page.inner_text("#gate-verdict")
        click_through(page, "input[value='Yes, activate bankCard@1.0.2']")
        seen["activated"] = page.inner_text("ul.messagelist")

        # Rolled back from the type's page.
        page.goto(f"{admin}/documenttype/{default.document_type_id}/change/")
        click_through(page, "#rollback-link")
        click_through(page, "input[value='Yes, roll back to 1.0.0']")
        seen["rolled back"] = page.inner_text("ul.messagelist")

        # An A/B experiment between the default and 1.0.2, promoted.
        page.goto(f"{admin}/experiment/add/")
        page.fill("#id_name", "shorter system prompt")
        page.select_option("#id_document_type", label="bankCard")
        seen["other types offered"] = page.eval_on_selector(
            "#id_variants-0-template",
            "s => [...s.options].filter(o => !o.disabled && o.text.startsWith('idCard')).length",
        )
        page.fill("#id_variants-0-name", "control")
        page.select_option("#id_variants-0-template", label="bankCard 1.0.0 (Active)")
        page.fill("#id_variants-1-name", "candidate")
        page.select_option("#id_variants-1-template", label="bankCard 1.0.2 (Active)")
        click_through(page, "input[name=_continue]")
        click_through(page, "input[value='Start the experiment']")
        click_through(page, "text=Promote candidate…")
        click_through(page, "input[value='Yes, promote bankCard@1.0.2']")
        seen["promoted"] = page.inner_text("ul.messagelist")

        # The playground.
        page.goto(second)
        click_through(page, "text=Playground")
        page.fill("#id_lines", "\n".join(cases[0]["rawTexts"]))
        click_through(page, "input[value='Run 1.0.2 and the default']")
        seen["playground"] = page.inner_text("#playground-fields")

    assert "Draft bankCard@1.0.1 created from bankCard@1.0.0." in seen["created"]
    assert "System prompt (changed)" in seen["diff"]
    assert "Finished: 3 of 3 case(s) done; 3 fell back" in seen["progress"]
    assert "Refused" in seen["refused"]
    assert "bankCard@1.0.1: field accuracy" in seen["refused"]
    assert "the default bankCard@1.0.0: field accuracy 1.0000" in seen["refused"]
    assert seen["passed"].startswith("Passed.")
    assert "The default of bankCard is now bankCard@1.0.2." in seen["activated"]
    assert "Rolled back: bankCard is served by 1.0.0 again." in seen["rolled back"]
    assert seen["other types offered"] == 0
    assert "now serves bankCard by default" in seen["promoted"]
    assert cases[0]["expected"]["cardNumber"] in seen["playground"]
    assert PromptTemplate.objects.defaults().for_type("bankCard").get().version == "1.0.2"
    assert list(Release.objects.order_by("id").values_list("kind", "to_version")) == [
        ("activate", "1.0.2"),
        ("rollback", "1.0.0"),
        ("promote", "1.0.2"),
    ]
    assert not OcrRequest.objects.exists()
