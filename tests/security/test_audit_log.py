"""The audit journal page: scope by centre, filters, pagination, exports, append-only."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AppendOnlyError, AuditEvent, CertificationCentre, Role, User
from core.services import audit, audit_download, centre_id_of

URL = "/journal/"


@pytest.fixture
def world(db):
    a = CertificationCentre.objects.create(code="A", name="Centre A")
    b = CertificationCentre.objects.create(code="B", name="Centre B")
    users = {}
    for name, role, centres, superuser in [
        ("staff-a", Role.STAFF, [a], False),
        ("staff-b", Role.STAFF, [b], False),
        ("admin", Role.STAFF, [], True),
        ("evaluator-a", Role.EVALUATOR, [a], False),
        ("tutor-a", Role.TUTOR, [a], False),
        ("jury-a", Role.JURY, [a], False),
    ]:
        user = User.objects.create_user(name, password="x", role=role, is_superuser=superuser)
        user.centres.set(centres)
        users[name] = user
    return {"a": a, "b": b, **users}


def listed(response):
    return {event.pk for event in response.context["events"]}


def test_url_is_the_one_the_navigation_names():
    assert reverse("core:audit_log") == URL


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("evaluator-a", 403), ("tutor-a", 403), ("jury-a", 403), ("staff-a", 200), ("admin", 200)],
)
def test_only_staff_open_the_journal(client, world, who, status):
    client.force_login(world[who])
    assert client.get(URL).status_code == status


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_staff_see_their_centres_events_superusers_see_all(client, world):
    in_a = audit(actor=world["staff-a"], action="candidate.updated", centre=world["a"])
    in_b = audit(actor=world["staff-b"], action="candidate.updated", centre=world["b"])
    platform = audit(action="login_failed")
    client.force_login(world["staff-a"])
    seen_by_a = listed(client.get(URL))
    assert in_a.pk in seen_by_a and in_b.pk not in seen_by_a and platform.pk not in seen_by_a
    client.force_login(world["admin"])
    assert {in_a.pk, in_b.pk, platform.pk} <= listed(client.get(URL))


@pytest.mark.django_db
def test_logins_and_refusals_of_a_centre_user_are_filed_under_his_centre(client, world):
    client.force_login(world["evaluator-a"])
    assert client.get(URL).status_code == 403  # a permission denial, audited
    client.force_login(world["staff-a"])
    actions = {(e.action, e.actor_id) for e in client.get(URL).context["events"]}
    assert ("login", world["evaluator-a"].pk) in actions
    assert ("permission_denied", world["evaluator-a"].pk) in actions
    client.force_login(world["staff-b"])
    actions_b = {(e.action, e.actor_id) for e in client.get(URL).context["events"]}
    assert ("permission_denied", world["evaluator-a"].pk) not in actions_b


@pytest.fixture
def dated_events(world, monkeypatch):
    def at(day, **kwargs):
        moment = timezone.make_aware(dt.datetime(2026, 3, day, 10, 0))
        monkeypatch.setattr(timezone, "now", lambda: moment)
        event = audit(centre=world["a"], **kwargs)
        monkeypatch.undo()
        return event

    return {
        "login": at(1, actor=world["staff-a"], action="login"),
        "reopen": at(5, actor=world["evaluator-a"], action="scoring.reopened", target=world["b"]),
        "override": at(10, actor=world["jury-a"], action="decision.overridden"),
        "download": at(20, actor=world["staff-a"], action="document.downloaded", target=world["a"]),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "login"}, {"login"}),
        ({"action": "scoring.reopened"}, {"reopen"}),
        ({"actor": "staff-a"}, {"login", "download"}),
        ({"target_type": "core.certificationcentre"}, {"reopen", "download"}),
        ({"since": "2026-03-05"}, {"reopen", "override", "download"}),
        ({"until": "2026-03-05"}, {"login", "reopen"}),
        ({"since": "2026-03-02", "until": "2026-03-19"}, {"reopen", "override"}),
        ({"since": "2026-03-02", "actor": "staff-a"}, {"download"}),
        ({}, {"login", "reopen", "override", "download"}),
    ],
)
def test_filters(client, world, dated_events, params, expected):
    client.force_login(world["staff-a"])
    if "actor" in params:
        params = {**params, "actor": world[params["actor"]].username}
    response = client.get(URL, params)
    assert response.status_code == 200
    wanted = {dated_events[name].pk for name in expected}
    assert listed(response) & {e.pk for e in dated_events.values()} == wanted


@pytest.mark.django_db
def test_actor_filter_offers_only_users_of_my_centres(client, world):
    client.force_login(world["staff-a"])
    form = client.get(URL).context["filter"].form
    offered = set(form.fields["actor"].queryset.values_list("username", flat=True))
    assert "staff-b" not in offered and {"staff-a", "evaluator-a"} <= offered
    # Choosing a user of another centre is refused by the form, not silently ignored.
    response = client.get(URL, {"actor": world["staff-b"].username})
    assert response.context["filter"].form.errors
    assert "Aucun compte de votre périmètre" in response.content.decode()


@pytest.mark.django_db
def test_labels_are_french_and_the_journal_is_paged_by_keyset(client, world):
    for _ in range(120):
        audit(actor=world["staff-a"], action="login", centre=world["a"])
    client.force_login(world["staff-a"])
    first = client.get(URL)
    body = first.content.decode()
    # 120 events + the login of force_login = 121, newest first, 50 a page.
    assert "Connexion" in body and "121 événements" in body and "Plus anciens" in body
    assert "Plus récents" not in body
    newest = list(AuditEvent.objects.filter(centre=world["a"]).order_by("-created_at", "-id"))
    assert [e.pk for e in first.context["events"]] == [e.pk for e in newest[:50]]
    second = client.get(URL, {"avant": first.context["journal"].older})
    assert [e.pk for e in second.context["events"]] == [e.pk for e in newest[50:100]]
    third = client.get(URL, {"avant": second.context["journal"].older})
    assert [e.pk for e in third.context["events"]] == [e.pk for e in newest[100:]]
    assert third.context["journal"].older is None and "Plus anciens" not in third.content.decode()
    # Back: « Plus récents » from the third page is the second page.
    back = client.get(URL, {"apres": third.context["journal"].newer})
    assert [e.pk for e in back.context["events"]] == [e.pk for e in newest[50:100]]
    assert "Les plus récents" in back.content.decode()


@pytest.mark.django_db
def test_keyset_pages_keep_events_of_the_same_instant_and_the_filters(client, world, monkeypatch):
    moment = timezone.now() - dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    for _ in range(60):  # all at the same instant: the id breaks the tie
        audit(actor=world["staff-a"], action="document.downloaded", centre=world["a"])
    monkeypatch.undo()
    audit(actor=world["staff-a"], action="logout", centre=world["a"])
    client.force_login(world["staff-a"])
    first = client.get(URL, {"action": "document.downloaded"})
    older = first.context["journal"].older
    body = first.content.decode()
    assert f"action=document.downloaded&amp;avant={older}" in body
    second = client.get(URL, {"action": "document.downloaded", "avant": older})
    seen = [e.pk for e in first.context["events"]] + [e.pk for e in second.context["events"]]
    expected = AuditEvent.objects.filter(action="document.downloaded").order_by("-id")
    assert seen == list(expected.values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["x", "12-", "-3", "99999999999999999999-1", "1-2-3", "1" * 40])
def test_a_broken_cursor_shows_the_newest_events(client, world, cursor):
    audit(actor=world["staff-a"], action="logout", centre=world["a"])
    client.force_login(world["staff-a"])
    for name in ("avant", "apres"):
        response = client.get(URL, {name: cursor})
        assert response.status_code == 200
        assert response.context["journal"].at_start


@pytest.mark.django_db
def test_empty_journal_says_what_will_appear(client, world):
    client.force_login(world["staff-b"])
    body = client.get(URL, {"action": "login", "since": "2000-01-01", "until": "2000-01-02"}).content.decode()
    assert "Aucun événement ne correspond à ces filtres" in body


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
def test_query_count_does_not_grow_with_rows(client, world, django_assert_max_num_queries, rows):
    for index in range(rows):
        actor = world["staff-a"] if index % 2 else world["evaluator-a"]
        audit(actor=actor, action="candidate.updated", target=world["b"], centre=world["a"], field="x")
    client.force_login(world["staff-a"])
    with django_assert_max_num_queries(10):  # + the alert on accounts producing many refusals (issue 19)
        response = client.get(URL)
    older = response.context["journal"].older
    with django_assert_max_num_queries(10):  # an older page: the same (keyset, no OFFSET)
        client.get(URL, {"avant": older} if older else {})
    assert len(response.context["events"]) == min(rows + 1, 50)


@pytest.mark.django_db
def test_csv_export_is_scoped_filtered_neutralised_and_audited(client, world):
    audit(actor=world["staff-a"], action="candidate.updated", centre=world["a"], message="=HYPERLINK(1)")
    audit(actor=world["staff-b"], action="candidate.updated", centre=world["b"], message="secret-b")
    client.force_login(world["staff-a"])
    response = client.get(URL, {"action": "candidate.updated", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Date", "Code de l'action", "Action"]
    assert len(rows) == 2
    assert rows[1][7] == "'=HYPERLINK(1)"
    assert "secret-b" not in response.content.decode("utf-8-sig")
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor == world["staff-a"] and exported.centre == world["a"]
    assert exported.data["format"] == "csv" and exported.data["filters"] == {"action": "candidate.updated"}


@pytest.mark.django_db
def test_xlsx_export_opens_in_a_spreadsheet(client, world):
    from openpyxl import load_workbook

    audit(actor=world["staff-a"], action="login", centre=world["a"])
    client.force_login(world["admin"])
    response = client.get(URL, {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Date"
    assert any(row[1] == "login" for row in values[1:])


@pytest.mark.django_db
def test_the_journal_cannot_be_changed_through_the_page(client, world):
    event = audit(actor=world["staff-a"], action="login", centre=world["a"])
    client.force_login(world["admin"])
    assert client.post(URL, {"action": "x"}).status_code == 405
    assert AuditEvent.objects.get(pk=event.pk).action == "login"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.save(),
        lambda e: e.delete(),
        lambda e: AuditEvent.objects.filter(pk=e.pk).update(action="effacé"),
        lambda e: AuditEvent.objects.filter(pk=e.pk).delete(),
        lambda e: AuditEvent.objects.all().delete(),
        lambda e: AuditEvent.objects.bulk_update([e], ["action"]),
    ],
    ids=["save", "delete", "qs-update", "qs-delete", "delete-all", "bulk-update"],
)
def test_append_only(world, change):
    event = audit(actor=world["staff-a"], action="login", centre=world["a"])
    event.action = "effacé"
    with pytest.raises(AppendOnlyError):
        change(event)
    assert AuditEvent.objects.get(pk=event.pk).action == "login"


@pytest.mark.django_db
def test_deleting_a_user_keeps_his_events(world):
    event = audit(actor=world["tutor-a"], action="login", centre=world["a"])
    world["tutor-a"].delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor is None and event.action == "login"


@pytest.mark.django_db
def test_admin_cannot_change_or_delete_events(client, world):
    world["admin"].is_staff = True
    world["admin"].save()
    event = audit(actor=world["staff-a"], action="login", centre=world["a"])
    client.force_login(world["admin"])
    change_url = reverse("admin:core_auditevent_change", args=[event.pk])
    assert client.post(change_url, {"action": "x"}).status_code == 403
    delete_url = reverse("admin:core_auditevent_delete", args=[event.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, action="login").exists()


@pytest.mark.django_db
def test_audit_download_records_who_downloaded_what(rf, world):
    request = rf.get("/x", REMOTE_ADDR="10.0.0.9")
    request.user = world["staff-a"]
    event = audit_download(request, world["b"], kind="pv")
    assert event.action == "document.downloaded"
    assert event.actor == world["staff-a"]
    assert event.target_type == "core.certificationcentre" and event.target_id == str(world["b"].pk)
    assert event.ip_address == "10.0.0.9" and event.data == {"kind": "pv"}


@pytest.mark.django_db
def test_centre_is_found_through_the_owner_object(world):
    """A document has no centre of its own: its events are filed under its candidate's centre."""
    from tests.candidates.factories import CandidateDocumentFactory, CandidateFactory

    candidate = CandidateFactory(centre=world["b"])
    document = CandidateDocumentFactory(candidate=candidate)
    assert centre_id_of(candidate) == world["b"].pk
    assert centre_id_of(document) == world["b"].pk
    assert centre_id_of(world["a"]) is None  # a centre is not "in" a centre
    event = audit(actor=world["staff-b"], action="document.downloaded", target=document)
    assert event.centre == world["b"]
    # An explicit centre wins.
    assert audit(action="x", target=document, centre=world["a"]).centre == world["a"]


@pytest.mark.django_db
def test_journal_words_actions_objects_and_details_in_french(client, world):
    from tests.candidates.factories import CandidateFactory

    candidate = CandidateFactory(centre=world["a"])
    audit(
        actor=world["staff-a"],
        action="candidate.status_changed",
        target=candidate,
        centre=world["a"],
        from_status="in_evaluation",
        to_status="withdrawn",
        late=False,
    )
    client.force_login(world["staff-a"])
    body = client.get(URL).content.decode()
    table = body.split("<tbody>")[1]  # the events (the filters' option values keep the codes)
    assert "Statut du candidat changé" in table and "candidate.status_changed" not in table
    assert f'<a href="{reverse("candidates:detail", args=[candidate.pk])}">' in table
    assert "candidates.candidate" not in table and "Candidat :" in table
    assert "ancien statut : en évaluation" in table and "nouveau statut : abandon / retrait" in table
    assert "en retard : non" in table and "False" not in table
