"""The permission matrix: every URL pattern of the project × 10 roles × own / other tenant's ids × GET / POST.

The URL patterns come from the resolver, so a new view is covered automatically — and fails until it
is declared in TABLE below. Each request runs inside a rolled-back savepoint, so an allowed POST (a
publication, a deletion…) does not change the world for the next request.

How to read TABLE: one line per URL name → (methods the view serves, ten cells in ROLES order).
A cell is the answer expected for that role: `ok` (the page or the action: 2xx, 400, or a redirect
that is not the login page), `403` (wrong role), `404` (object outside the role's scope), `L` (login
redirect). `X/Y` gives the answer for the object of centre A / the same kind of object of centre B;
a single value is the answer for both.

Derived rules (the only ones):
- URLs in MIXED carry two ids; they are also requested with the first id from centre A and the second
  from centre B (e.g. A's session with B's candidate): wherever the A cell is `ok`, the answer must be 404.
- A method the view does not serve must be refused: 405, or the refusal of the cell (L/403/404).
"""

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.security.matrix import classify, request_rolled_back, url_routes
from tests.security.scenario import ROLES, build_world

G, P, GP = ("GET",), ("POST",), ("GET", "POST")

STAFF_PAGE = "L ok ok ok 403 403 403 403 403 403"  # staff pages without an object (lists, forms)
STAFF_OBJECT = "L ok/404 404/ok ok 403 403 403 403 403 403"  # an object of one centre
PUBLIC = "ok ok ok ok ok ok ok ok ok ok"
SIGNED_IN = "L ok ok ok ok ok ok ok ok ok"
EVALUATOR_OBJECT = "L 403 403 403 ok/404 404 403 403 403 403"  # the candidate of evaluator_in's commission
JURY_SESSION = "L ok/404 404/ok ok 403 403 403 403 ok/404 403"  # the deliberation session of the jury

#           roles: anonymous staff_a staff_b superuser evaluator_in evaluator_out tutor_of tutor_other jury
#                  candidate
TABLE = {
    # --- platform and accounts ---
    "healthz": (G, PUBLIC),
    "bench_bare": (GP, PUBLIC),  # constant page of the benchmark: no data, no session
    "home": (GP, SIGNED_IN),
    "login": (GP, PUBLIC),
    "logout": (P, "L L L L L L L L L L"),  # logging out ends on the login page
    "password_change": (GP, SIGNED_IN),
    "password_change_done": (G, SIGNED_IN),
    "password_reset": (GP, PUBLIC),
    "password_reset_done": (G, PUBLIC),
    "password_reset_confirm": (GP, PUBLIC),  # a wrong token shows « lien invalide »
    "password_reset_complete": (G, PUBLIC),
    "core:notifications": (GP, SIGNED_IN),  # each user's own messages only
    "reporting:statistics": (GP, STAFF_PAGE),
    "core:otp_setup": (GP, "L ok ok ok 403 403 403 403 ok 403"),  # two-factor: staff and jury
    "core:otp_disable": (P, "L ok ok ok 403 403 403 403 ok 403"),
    "core:otp_verify": (GP, SIGNED_IN),
    "core:audit_log": (G, STAFF_PAGE),
    # --- referential (national, shared by every centre; managed by staff) ---
    "referential:list": (G, "L ok ok ok ok ok 403 403 ok 403"),
    "referential:upload": (GP, STAFF_PAGE),
    "referential:detail": (G, "L ok ok ok ok ok 403 403 ok 403"),
    "referential:rncp": (GP, STAFF_PAGE),  # RNCP number and level of a (national) CQPM
    "referential:export": (G, "L ok ok ok ok ok 403 403 ok 403"),
    "referential:publish": (P, STAFF_PAGE),
    "referential:new_draft": (P, STAFF_PAGE),
    "referential:delete_draft": (P, STAFF_PAGE),
    "referential:edit_competency": (GP, STAFF_PAGE),
    # --- candidates ---
    "candidates:list": (GP, STAFF_PAGE),
    "candidates:export": (G, STAFF_PAGE),
    "candidates:create": (GP, STAFF_PAGE),
    "candidates:import": (GP, STAFF_PAGE),
    "candidates:import_job": (G, STAFF_OBJECT),
    "candidates:import_job_status": (G, STAFF_OBJECT),
    "candidates:import_job_confirm": (P, STAFF_OBJECT),
    "candidates:detail": (G, STAFF_OBJECT),
    "candidates:update": (GP, STAFF_OBJECT),
    "candidates:transition": (P, STAFF_OBJECT),
    "candidates:dossier_edit": (GP, STAFF_OBJECT),
    "candidates:dossier_validate": (P, STAFF_OBJECT),
    "candidates:dossier_reopen": (P, STAFF_OBJECT),
    "candidates:document_upload": (GP, STAFF_OBJECT),
    # the candidate's report: staff and the evaluators of his commission; the jury only for its session
    "candidates:document_download": (G, "L ok/404 404/ok ok ok/404 404 403 403 404 403"),
    "candidates:personal_data_export": (P, STAFF_OBJECT),
    # RGPD right of access: the register and its requests, staff of the candidate's centre
    "candidates:access_request_list": (G, STAFF_PAGE),
    "candidates:access_request_create": (GP, STAFF_OBJECT),
    "candidates:access_request_detail": (G, STAFF_OBJECT),
    "candidates:access_request_answer": (P, STAFF_OBJECT),
    "candidates:access_request_sent": (P, STAFF_OBJECT),
    "candidates:company_list": (G, STAFF_PAGE),
    "candidates:company_search": (G, STAFF_PAGE),  # suggestions: companies of the user's centres only
    "candidates:company_create": (GP, STAFF_PAGE),
    "candidates:company_detail": (G, STAFF_OBJECT),
    "candidates:company_update": (GP, STAFF_OBJECT),
    "candidates:tutor_create": (GP, STAFF_OBJECT),
    "candidates:tutor_update": (GP, STAFF_OBJECT),
    # --- evaluations: staff side ---
    "evaluations:session_list": (GP, STAFF_PAGE),
    "evaluations:session_create": (GP, STAFF_PAGE),
    "evaluations:session_detail": (GP, STAFF_OBJECT),
    "evaluations:session_update": (GP, STAFF_OBJECT),
    "evaluations:convene": (GP, STAFF_OBJECT),
    "evaluations:assign": (P, STAFF_OBJECT),
    "evaluations:unassign": (P, STAFF_OBJECT),
    "evaluations:acting_president": (P, STAFF_OBJECT),
    "evaluations:resend_convocation": (P, STAFF_OBJECT),
    "evaluations:commission_list": (GP, STAFF_PAGE),
    "evaluations:commission_create": (GP, STAFF_PAGE),
    "evaluations:commission_detail": (GP, STAFF_OBJECT),
    "evaluations:member_add": (P, STAFF_OBJECT),
    "evaluations:member_president": (P, STAFF_OBJECT),
    "evaluations:member_remove": (P, STAFF_OBJECT),
    "evaluations:conflict_declare": (P, STAFF_PAGE),
    "evaluations:conflict_remove": (P, STAFF_OBJECT),
    "evaluations:candidate_detail": (GP, STAFF_OBJECT),
    "evaluations:candidate_history": (GP, STAFF_OBJECT),
    "evaluations:invite_tutor": (P, STAFF_OBJECT),
    "evaluations:tutor_invitation_link": (P, STAFF_OBJECT),
    "evaluations:sheet_detail": (GP, STAFF_OBJECT),
    "evaluations:sheet_reopen": (P, STAFF_OBJECT),
    # --- evaluations: evaluators and tutors ---
    "evaluations:to_score": (GP, "L 403 403 403 ok ok 403 403 403 403"),
    "evaluations:score": (GP, EVALUATOR_OBJECT),
    "evaluations:autosave": (P, EVALUATOR_OBJECT),
    "evaluations:proposal": (GP, EVALUATOR_OBJECT),
    "evaluations:grid_pdf": (GP, "L ok/404 404/ok ok ok/404 404 403 403 403 403"),
    "evaluations:opinions_todo": (GP, "L 403 403 403 403 403 ok ok 403 403"),
    "evaluations:opinion": (GP, "L 403 403 403 403 403 ok/404 404 403 403"),
    # The single-use token in the link is the credential to create the tutor's account; the matrix's
    # tutor already has one with a password, so the link only leads to the login page (review finding 2;
    # the set-password path: tests/evaluations/test_views_opinions.py).
    "evaluations:invitation": (GP, "L L L L L L L L L L"),
    # --- deliberations ---
    "deliberations:session_list": (G, "L ok ok ok 403 403 403 403 ok 403"),
    "deliberations:session_create": (GP, STAFF_PAGE),
    "deliberations:jury_list": (GP, STAFF_PAGE),
    "deliberations:jury_detail": (GP, STAFF_OBJECT),
    "deliberations:jury_member_remove": (P, STAFF_OBJECT),
    "deliberations:session_detail": (GP, JURY_SESSION),  # POST: the board's search (kept out of URLs)
    # the candidates' appeals (issue 23): staff of the session's centre (POST: the outcome)
    "deliberations:appeal_list": (G, STAFF_PAGE),
    "deliberations:appeal_detail": (GP, STAFF_OBJECT),
    "deliberations:session_convocations": (P, STAFF_OBJECT),
    "deliberations:session_attendance": (P, STAFF_OBJECT),
    "deliberations:session_late_entry": (P, STAFF_OBJECT),
    "deliberations:session_add_candidates": (P, STAFF_OBJECT),
    "deliberations:session_remove_candidate": (P, STAFF_OBJECT),
    "deliberations:candidate_decide": (GP, JURY_SESSION),
    "deliberations:session_close": (P, JURY_SESSION),
    "deliberations:session_documents": (G, JURY_SESSION),
    "deliberations:document_request": (P, STAFF_OBJECT),
    "deliberations:document_status": (G, JURY_SESSION),
    "deliberations:document_retry": (P, STAFF_OBJECT),
    "deliberations:document_download": (G, JURY_SESSION),
    "deliberations:prior_deliberation_create": (GP, STAFF_OBJECT),  # from the candidate's page
    "deliberations:document_settings": (GP, STAFF_PAGE),  # the centre's signatory and contest text
    "deliberations:verify": (G, PUBLIC),  # public verification of a certificate number
    "deliberations:verify_number": (G, PUBLIC),
    # --- people and accounts (« Personnes ») ---
    "people:list": (G, STAFF_PAGE),
    "people:create": (GP, STAFF_PAGE),
    "people:detail": (G, STAFF_OBJECT),
    "people:update": (GP, STAFF_OBJECT),
    "people:deactivate": (P, STAFF_OBJECT),
    "people:reactivate": (P, STAFF_OBJECT),
    "people:invite": (P, STAFF_OBJECT),
    "people:commission_add": (P, STAFF_OBJECT),
    "people:commission_president": (P, STAFF_OBJECT),
    "people:commission_remove": (P, STAFF_OBJECT),
    "people:jury_add": (P, STAFF_OBJECT),
    "people:jury_remove": (P, STAFF_OBJECT),
    "people:invitation": (GP, PUBLIC),  # the single-use token in the link is the credential
    # the candidate's own space (issue 23): his rows only; another candidate's document is a 404, and
    # so is his own while the session is not closed (never before the jury closes; the world's session
    # is still open — the download after closure: tests/people/test_candidate_space.py)
    "people:candidate_home": (G, "L 403 403 403 403 403 403 403 403 ok"),
    "people:candidate_document": (G, "L 403 403 403 403 403 403 403 403 404"),
    # before the evaluation: upload form (the world's candidate is past it: the page says the upload is
    # closed, a POST is refused with a message) and the receipt of his own upload (B's: 404)
    "people:candidate_upload": (GP, "L 403 403 403 403 403 403 403 403 ok"),
    "people:candidate_receipt": (G, "L 403 403 403 403 403 403 403 403 ok/404"),
    # the appeal of a result: only for a session closed with his outcome (the world's is open: 404)
    "people:candidate_appeal": (GP, "L 403 403 403 403 403 403 403 403 404"),
    # RGPD: his consents and requests, the export of his own data, a request of rectification
    "people:candidate_data": (G, "L 403 403 403 403 403 403 403 403 ok"),
    "people:candidate_data_export": (P, "L 403 403 403 403 403 403 403 403 ok"),
    "people:candidate_rectification": (P, "L 403 403 403 403 403 403 403 403 ok"),
    # --- legal reporting (« accrochage ») ---
    "reporting:accrochage": (GP, STAFF_PAGE),
    "reporting:accrochage_export": (P, STAFF_PAGE),
    "reporting:batch_download": (GP, STAFF_OBJECT),
    "reporting:report_upload": (P, STAFF_OBJECT),  # the portal's processing report of a file
    "reporting:legacy_examination": (GP, STAFF_OBJECT),  # exam dates of a candidate evaluated before
}

# URLs whose second id names another object: also tried with A's first id and B's second id.
MIXED = {
    "candidates:document_download",
    "evaluations:unassign",
    "evaluations:score",
    "evaluations:autosave",
    "evaluations:proposal",
    "evaluations:grid_pdf",
    "deliberations:jury_member_remove",
    "deliberations:session_remove_candidate",
    "deliberations:candidate_decide",
    "people:commission_president",
    "people:commission_remove",
    "people:jury_remove",
}

# Views known to answer against the table, each with its reason (strict: fixing one fails the test
# until it is removed from here). Empty: every view answers as declared.
XFAIL = {}


def _kwargs(getter):
    return lambda own, other: {"pk": own[getter].pk}


URL_ARGS = {
    "password_reset_confirm": lambda own, other: {"uidb64": "MQ", "token": "jeton-invalide"},
    "referential:detail": _kwargs("certification"),
    "referential:export": _kwargs("certification"),
    "referential:rncp": _kwargs("certification"),
    "referential:publish": _kwargs("draft"),
    "referential:new_draft": _kwargs("certification"),
    "referential:delete_draft": _kwargs("draft"),
    "referential:edit_competency": lambda own, other: {"pk": own["draft"].pk, "number": 1},
    "candidates:detail": _kwargs("candidate"),
    "candidates:update": _kwargs("candidate"),
    "candidates:transition": _kwargs("candidate"),
    "candidates:dossier_edit": _kwargs("candidate"),
    "candidates:dossier_validate": _kwargs("candidate"),
    "candidates:dossier_reopen": _kwargs("candidate"),
    "candidates:document_upload": _kwargs("candidate"),
    "candidates:document_download": lambda own, other: {
        "pk": own["candidate"].pk,
        "document_pk": other["document"].pk,
    },
    "candidates:personal_data_export": _kwargs("candidate"),
    "deliberations:prior_deliberation_create": lambda own, other: {"candidate_pk": own["candidate"].pk},
    "candidates:import_job": _kwargs("import_job"),
    "candidates:access_request_create": _kwargs("candidate"),
    "candidates:access_request_detail": _kwargs("access_request"),
    "candidates:access_request_answer": _kwargs("access_request"),
    "candidates:access_request_sent": _kwargs("access_request"),
    "candidates:import_job_status": _kwargs("import_job"),
    "candidates:import_job_confirm": _kwargs("import_job"),
    "candidates:company_detail": _kwargs("company"),
    "candidates:company_update": _kwargs("company"),
    "candidates:tutor_create": _kwargs("company"),
    "candidates:tutor_update": _kwargs("tutor"),
    "evaluations:session_detail": _kwargs("session"),
    "evaluations:session_update": _kwargs("session"),
    "evaluations:convene": _kwargs("session"),
    "evaluations:assign": _kwargs("convocation"),
    "evaluations:unassign": lambda own, other: {
        "pk": own["convocation"].pk,
        "user_pk": other["evaluator"].pk,
    },
    "evaluations:resend_convocation": _kwargs("convocation"),
    "evaluations:acting_president": _kwargs("convocation"),
    "evaluations:commission_detail": _kwargs("commission"),
    "evaluations:member_add": _kwargs("commission"),
    "evaluations:member_president": _kwargs("member"),
    "evaluations:member_remove": _kwargs("member"),
    "evaluations:conflict_remove": _kwargs("conflict"),
    "evaluations:candidate_detail": _kwargs("candidate"),
    "evaluations:candidate_history": _kwargs("candidate"),
    "evaluations:invite_tutor": _kwargs("candidate"),
    "evaluations:tutor_invitation_link": _kwargs("candidate"),
    "evaluations:sheet_detail": _kwargs("sheet"),
    "evaluations:sheet_reopen": _kwargs("sheet"),
    **{
        f"evaluations:{name}": lambda own, other: {
            "candidate_pk": own["candidate"].pk,
            "competency_pk": other["competency"].pk,
        }
        for name in ("score", "autosave", "proposal", "grid_pdf")
    },
    "evaluations:opinion": lambda own, other: {"candidate_pk": own["candidate"].pk},
    "evaluations:invitation": lambda own, other: {"token": own["invitation_token"]},
    "deliberations:jury_detail": _kwargs("jury"),
    "deliberations:jury_member_remove": lambda own, other: {
        "pk": own["jury"].pk,
        "member_pk": other["jury_member"].pk,
    },
    "deliberations:session_detail": _kwargs("deliberation"),
    "deliberations:session_convocations": _kwargs("deliberation"),
    "deliberations:session_attendance": _kwargs("deliberation"),
    "deliberations:session_late_entry": _kwargs("deliberation"),
    "deliberations:session_add_candidates": _kwargs("deliberation"),
    "deliberations:session_remove_candidate": lambda own, other: {
        "pk": own["deliberation"].pk,
        "candidate_pk": other["deliberated"].pk,
    },
    "deliberations:candidate_decide": lambda own, other: {
        "pk": own["deliberation"].pk,
        "candidate_pk": other["deliberated"].pk,
    },
    "deliberations:session_close": _kwargs("deliberation"),
    "deliberations:session_documents": _kwargs("deliberation"),
    "deliberations:document_request": _kwargs("deliberation"),
    "deliberations:document_status": lambda own, other: {"document_pk": own["certificate"].pk},
    "deliberations:document_retry": lambda own, other: {"document_pk": own["certificate"].pk},
    "deliberations:document_download": lambda own, other: {"document_pk": own["certificate"].pk},
    "deliberations:verify_number": lambda own, other: {"number": own["certificate"].number},
    "reporting:batch_download": _kwargs("batch"),
    "reporting:report_upload": _kwargs("batch"),
    "reporting:legacy_examination": _kwargs("candidate"),
    "people:detail": _kwargs("person"),
    "people:update": _kwargs("person"),
    "people:deactivate": _kwargs("person"),
    "people:reactivate": _kwargs("person"),
    "people:invite": _kwargs("person"),
    "people:commission_add": _kwargs("person"),
    "people:commission_president": lambda own, other: {
        "pk": own["person"].pk,
        "member_pk": other["person_membership"].pk,
    },
    "people:commission_remove": lambda own, other: {
        "pk": own["person"].pk,
        "member_pk": other["person_membership"].pk,
    },
    "people:jury_add": _kwargs("jury_person"),
    "people:jury_remove": lambda own, other: {"pk": own["jury_person"].pk, "seat_pk": other["jury_seat"].pk},
    "people:invitation": lambda own, other: {"uidb64": "MQ", "token": "jeton-invalide"},
    "people:candidate_document": lambda own, other: {"document_pk": own["certificate"].pk},
    "people:candidate_receipt": lambda own, other: {"document_pk": own["own_upload"].pk},
    "people:candidate_appeal": lambda own, other: {"session_pk": own["deliberation"].pk},
    "deliberations:appeal_detail": _kwargs("appeal"),
}


def parse_cells(spec):
    cells = spec.split()
    assert len(cells) == len(ROLES), f"{spec!r}: {len(cells)} cases pour {len(ROLES)} rôles"
    parsed = {}
    for role, cell in zip(ROLES, cells, strict=True):
        on_a, _, on_b = cell.partition("/")
        parsed[role] = {"A": on_a, "B": on_b or on_a}
    return parsed


def normalise(cell):
    return "login" if cell == "L" else cell


def acceptable(cell, method, methods):
    """The answers that satisfy the table for one request."""
    cell = normalise(cell)
    if method in methods:
        return {cell}
    return {"405"} | ({cell} if cell != "ok" else set())


ROUTES = url_routes()


def route_params():
    for name in sorted(ROUTES):
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[name])] if name in XFAIL else []
        yield pytest.param(name, id=name, marks=marks)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at the end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            users, a, b = build_world()
            clients = {}
            for role in ROLES:
                client = Client(raise_request_exception=False)
                if role != "anonymous":
                    client.force_login(users[role])
                cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
                clients[role] = (client, cookie.value if cookie else None)
            yield {"a": a, "b": b, "clients": clients, "users": users}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_the_matrix_has_at_least_eight_roles_and_no_stale_entry():
    assert len(ROLES) >= 8
    stale = sorted(set(TABLE) - set(ROUTES))
    assert not stale, f"Entrées de la matrice sans URL correspondante (vue renommée ou supprimée ?) : {stale}"
    assert not set(URL_ARGS) - set(ROUTES) and set(TABLE) >= MIXED and set(XFAIL) <= set(TABLE)
    for name, (methods, spec) in TABLE.items():
        assert set(methods) <= {"GET", "POST"} and methods, name
        parse_cells(spec)


def test_every_url_with_parameters_has_a_builder():
    missing = sorted(name for name, route in ROUTES.items() if route.params and name not in URL_ARGS)
    assert not missing, f"URL à paramètres sans objets de scénario : {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(route_params()))
def test_permission_matrix(world, name):
    route = ROUTES[name]
    if name not in TABLE:
        pytest.fail(
            f"L'URL « {name} » ({route.pattern}) n'est pas déclarée dans la matrice des permissions "
            "(tests/security/test_permission_matrix.py, TABLE) : déclarez ce que chaque rôle doit obtenir."
        )
    methods, spec = TABLE[name]
    cells = parse_cells(spec)
    builder = URL_ARGS.get(name)
    variants = {"A": (world["a"], world["a"]), "B": (world["b"], world["b"])}
    if name in MIXED:
        variants["A+B"] = (world["a"], world["b"])
    problems = []
    for role in ROLES:
        client, cookie = world["clients"][role]
        for variant, (own, other) in variants.items():
            url = reverse(name, kwargs=builder(own, other) if builder else None)
            if variant == "A+B":
                cell = "404" if cells[role]["A"] == "ok" else cells[role]["A"]
            else:
                cell = cells[role][variant]
            for method in ("GET", "POST"):
                response = request_rolled_back(client, method, url, cookie)
                answer = classify(response)
                expected = acceptable(cell, method, methods)
                if answer not in expected:
                    detail = ""
                    if getattr(response, "exc_info", None):
                        detail = f" ({response.exc_info[1]!r})"
                    elif response.status_code in (301, 302, 303):
                        detail = f" (→ {response['Location']})"
                    problems.append(
                        f"{role:<14} {variant:<4} {method:<4} {url}: attendu {'|'.join(sorted(expected))}, "
                        f"obtenu {answer}{detail}"
                    )
    assert not problems, f"{name} ne répond pas comme la matrice le déclare :\n" + "\n".join(problems)


# Every URL that hands out a file or an export of personal data, with who downloads it.
DOWNLOADS = [
    ("candidates:document_download", "GET", "staff_a"),
    ("candidates:document_download", "GET", "evaluator_in"),
    ("candidates:personal_data_export", "POST", "staff_a"),
    ("people:candidate_data_export", "POST", "candidate"),  # his own data (issue 23)
    ("candidates:export", "GET", "staff_a"),
    ("evaluations:grid_pdf", "GET", "evaluator_in"),
    ("deliberations:document_download", "GET", "jury"),
    ("deliberations:document_download", "GET", "staff_a"),
    ("reporting:batch_download", "GET", "staff_a"),
    ("core:audit_log", "GET", "staff_a"),
]


def test_downloads_list_is_complete():
    """A new download view must be added to DOWNLOADS (and journal its downloads)."""
    looks_like_download = {
        name
        for name in ROUTES
        if any(word in name for word in ("download", "export", "pdf", "telecharger"))
        and name not in {"referential:export", "reporting:accrochage_export"}
    }
    assert looks_like_download <= {name for name, _method, _role in DOWNLOADS}, looks_like_download


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "role"), DOWNLOADS)
def test_every_download_is_audited(world, name, method, role):
    from core.models import AuditEvent

    client, cookie = world["clients"][role]
    builder = URL_ARGS.get(name)
    a = world["a"]
    url = reverse(name, kwargs=builder(a, a) if builder else None)
    if name == "core:audit_log":
        url += "?export=csv"
    with transaction.atomic():
        before = AuditEvent.objects.count()
        response = client.get(url) if method == "GET" else client.post(url)
        new_events = list(AuditEvent.objects.order_by("-pk")[: AuditEvent.objects.count() - before])
        transaction.set_rollback(True)
    if cookie is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert response.status_code == 200, (response.status_code, getattr(response, "exc_info", None))
    assert "attachment" in response.get("Content-Disposition", "") or response["Content-Type"] in (
        "application/pdf",
        "application/zip",
    )
    assert new_events, f"{name}: téléchargement sans trace dans le journal d'audit"
    event = new_events[-1]
    assert event.actor == world["users"][role]
    assert event.centre_id == a.centre.pk, (
        f"{name}: événement {event.action} sans le centre A ({event.centre_id})"
    )
