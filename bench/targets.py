"""The pages the bench measures, found in the scale data: prints them as JSON (one object per page).

Run by bench/bench.py with the bench database's DATABASE_URL. Each page says which account opens it
(the role that uses it in real life) and what must be on it, so a page that answers 200 with an
empty list does not pass for a fast one.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqpm.settings")
os.environ.setdefault("CQPM_BENCH", "1")  # the development-only bench app (bench.scale)


def find_targets():
    from django.urls import reverse

    from bench.scale import ADMIN_USERNAME, BENCH_CENTRE_CODE, BENCH_CLOSED_PLACE, BENCH_OPEN_PLACE
    from candidates.models import Candidate, CandidateStatus
    from candidates.selectors import LIST_ORDERING, encode_list_cursor
    from core.models import AuditEvent
    from deliberations.models import DeliberationSession, JuryMember
    from evaluations.models import ScoringSheet, SheetStatus

    centre_code = BENCH_CENTRE_CODE
    staff = f"scale-staff-{centre_code.lower()}-1"
    open_session = DeliberationSession.objects.get(centre__code=centre_code, place=BENCH_OPEN_PLACE)
    closed_session = DeliberationSession.objects.get(centre__code=centre_code, place=BENCH_CLOSED_PLACE)
    president = JuryMember.objects.select_related("user").get(jury=open_session.jury, is_president=True)

    # A deliberated candidate of the bench centre: the fullest candidate page (dossier, sheets, outcome).
    candidate = (
        Candidate.objects.filter(centre__code=centre_code, status=CandidateStatus.DELIBERATED)
        .order_by("pk")
        .first()
    )
    # The scoring grid of the competency with the most criteria, on a sheet its evaluator is filling in.
    sheet = (
        ScoringSheet.objects.filter(candidate__centre__code=centre_code, status=SheetStatus.DRAFT)
        .select_related("evaluator", "competency")
        .order_by("-competency__criteria__order", "pk")
        .first()
    )
    deliberated = Candidate.objects.filter(status=CandidateStatus.DELIBERATED).count()
    list_page = max(1, deliberated // 50 // 2)  # the middle of the filtered list
    # The list pages by keyset (issue 21): the middle page is opened « after » the last row of the
    # page before it — the same 50 rows as `?page={list_page}` showed, so the figures compare.
    middle = Candidate.objects.filter(status=CandidateStatus.DELIBERATED).order_by(*LIST_ORDERING)
    first_row = (list_page - 1) * 50
    list_cursor = f"&apres={encode_list_cursor(middle[first_row - 1])}" if first_row else ""
    session_size = open_session.entries.count()

    return {
        "pages": [
            {
                "key": "bare",
                "label": "Vue nue (référence)",
                "path": reverse("bench_bare"),
                "user": None,
                "expect": "ok",
            },
            {
                "key": "candidate_list",
                "label": f"Liste des candidats filtrée, page du milieu par curseur ({Candidate.objects.count()} candidats, page {list_page})",
                "path": f"{reverse('candidates:list')}?status={CandidateStatus.DELIBERATED}{list_cursor}",
                "user": ADMIN_USERNAME,
                "expect": middle[first_row].reference,
            },
            {
                "key": "candidate_detail",
                "label": "Fiche d'un candidat délibéré",
                "path": reverse("candidates:detail", args=[candidate.pk]),
                "user": staff,
                "expect": candidate.reference,
            },
            {
                "key": "scoring",
                "label": f"Grille de notation d'une compétence ({sheet.competency.criteria.count()} critères)",
                "path": reverse("evaluations:score", args=[sheet.candidate_id, sheet.competency_id]),
                "user": sheet.evaluator.username,
                "expect": sheet.competency.criteria.order_by("order").last().text[:40],
            },
            {
                "key": "jury_board",
                "label": f"Tableau du jury, session de {session_size} candidats",
                "path": reverse("deliberations:session_detail", args=[open_session.pk]),
                "user": president.user.username,
                # the board shows its first page (by reference) and the counts of the whole session
                "expect": open_session.entries.order_by("candidate__reference").first().candidate.reference,
            },
            {
                "key": "statistics",
                "label": "Statistiques (tous centres)",
                "path": reverse("reporting:statistics"),
                "user": ADMIN_USERNAME,
                "expect": "",
            },
            {
                # The CPF declaration page of the bench centre: holders to declare (the closed
                # reference session's), files produced, holders declared late (issue 21).
                "key": "accrochage",
                "label": "Déclaration des titulaires au CPF (centre de référence)",
                "path": reverse("reporting:accrochage"),
                "user": staff,
                "expect": "Titulaires à déclarer",
            },
            {
                # The audit journal of the bench centre, newest first (keyset pagination; issue 21).
                "key": "journal",
                "label": f"Journal d'audit du centre ({AuditEvent.objects.filter(centre__code=centre_code).count()} événements)",
                "path": reverse("core:audit_log"),
                "user": staff,
                "expect": "Plus anciens",
            },
            {
                # The floor of every page: session, user, middlewares and base.html around nothing.
                "key": "empty",
                "label": "Page authentifiée vide (Mes messages, personnel de centre)",
                "path": reverse("core:notifications"),
                "user": staff,
                "expect": "Mes messages",
            },
        ],
        "closed_session_id": closed_session.pk,
        "open_session_id": open_session.pk,
        "session_size": session_size,
        "staff": staff,
    }


if __name__ == "__main__":
    import django

    django.setup()
    json.dump(find_targets(), sys.stdout, ensure_ascii=False, indent=1)
