import pytest

from ocr.models import Feedback, RequestStatus
from prompts.models import DocumentType, Experiment, ExperimentVariant, PromptTemplate
from tests.analytics.logged import logged
from tests.browser import click_through, log_in, open_page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_staff_start_an_experiment_read_its_results_and_promote(live_server, admin_user, tmp_path):
    control = PromptTemplate.objects.defaults().for_type("idCard").get()
    candidate = control.new_version(version="1.1.0")
    experiment = Experiment.objects.create(
        document_type=DocumentType.objects.get(key="idCard"), name="shorter prompt"
    )
    ExperimentVariant.objects.create(experiment=experiment, name="control", template=control)
    ExperimentVariant.objects.create(experiment=experiment, name="candidate", template=candidate)
    # Logged as the pipeline would once the experiment runs (no ORM beside the browser's loop).
    served = logged(
        document_type="idCard",
        status=RequestStatus.SUCCESS,
        confidence=0.9,
        experiment=experiment,
        experiment_variant="candidate",
    )
    Feedback.objects.create(request=served, corrected_fields=["name"], field_count=9)
    change = f"{live_server.url}/admin/prompts/experiment/{experiment.pk}/change/"

    for page in open_page():
        log_in(page, base_url=live_server.url, username="admin", password="password")
        page.goto(change)
        click_through(page, "input[value='Start the experiment']")
        started = page.inner_text("ul.messagelist")
        page.goto(change)
        page.screenshot(path=tmp_path / "experiment.png", full_page=True)
        candidate_row = page.inner_text("#experiment-results tbody tr:nth-child(2)")
        click_through(page, "text=Promote candidate…")
        confirmation = page.inner_text("#content")
        click_through(page, "input[value='Yes, promote idCard@1.1.0']")
        promoted = page.inner_text("ul.messagelist")

    assert "Experiment “shorter prompt” is running." in started
    assert candidate_row.split("\t")[:7] == [
        "candidate",
        "idCard 1.1.0",
        "50%",
        "1",  # requests
        "0.900",  # mean confidence
        "1",  # feedback
        "0.889",  # field accuracy
    ]
    assert "Make idCard@1.1.0 the default of idCard" in confirmation
    assert "now serves idCard by default" in promoted
    assert PromptTemplate.objects.defaults().for_type("idCard").get() == candidate
