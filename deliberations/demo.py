"""Demo data of the deliberations (centre A), built through the services. Idempotent: the jury, the
sessions and the demo candidates are looked up by stable keys and only created when missing.

- « Jury paritaire RH — Lorraine »: president Pierre Moreau (employers, account « jury-a »), a second
  employer member, and one member per union (CFDT, CGT) on the employees' side.
- Session 1, two months ago, CLOSED: two earlier candidates, one certified, one partial result (bloc 1
  acquired); its PV, attendance sheet, letters, parchemin and attestation are rendered and stored
  synchronously here. The earlier candidates were evaluated before the product: their exam dates
  and delivery mode are recorded as staff would (« évaluation antérieure »), so the holder can be
  declared to the CPF information system.
- Session 2, last week, DECIDED (mixed full and partial results, one override with its motivation),
  attendance recorded: it can be closed in the browser.
- Session 3, in three weeks, READY TO DELIBERATE: the candidates the evaluations demo left awaiting
  deliberation (a01, a02, a03) with their pre-deliberation checks; convocations recorded.
"""

import datetime

from django.utils import timezone

from candidates import services as candidate_services
from candidates.models import Candidate, CandidateStatus, Pathway
from evaluations import services as evaluation_services
from evaluations.models import CommissionProposal, CompanyOpinion, DeliveryMode, LegacyExamination

from . import documents, services
from .models import CentreDocumentSettings, College, DeliberationSession, Jury, SessionStatus

JURY_NAME = "Jury paritaire RH — Lorraine"
MEMBERS = [
    # full name, college, union, president, username
    ("Pierre Moreau", College.EMPLOYERS, "", True, "jury-a"),
    ("Isabelle Klein", College.EMPLOYERS, "", False, None),
    ("Mohamed Haddad", College.EMPLOYEES, "CFDT", False, None),
    ("Sandrine Weber", College.EMPLOYEES, "CGT", False, None),
]

# Earlier candidates, deliberated in the demo's own sessions (key: birth name, first names, birth date).
HISTORY = [
    ("s1", "ROBERT", "Julie", (1990, 4, 12), {}),
    (
        "s1",
        "LAMBERT",
        "Hugo",
        (1988, 9, 3),
        {"last": ("not_acquired", "Le résultat attendu n'est pas atteint.")},
    ),
    (
        "s1",
        "ROUSSEL",
        "Emma",
        (1997, 1, 15),
        {"all": ("not_acquired", "Aucun des résultats attendus n'est atteint ; entretien confus.")},
    ),
    ("s2", "FONTAINE", "Claire", (1993, 2, 21), {}),
    (
        "s2",
        "GAUTHIER",
        "Nicolas",
        (1985, 11, 30),
        {"first": ("not_acquired", "Les éléments de preuve présentés sont insuffisants.")},
    ),
    ("s2", "MERCIER", "Emma", (1996, 6, 8), {}),
]


def _jury(ctx, staff):
    centre = ctx["centres"]["A"]
    jury = Jury.objects.filter(centre=centre, name=JURY_NAME).first() or services.create_jury(
        actor=staff, centre=centre, name=JURY_NAME
    )
    for full_name, college, union, president, username in MEMBERS:
        if jury.members.filter(full_name=full_name).exists():
            continue
        user = ctx["users"].get(username) if username else None
        services.add_jury_member(
            actor=staff,
            jury=jury,
            full_name=full_name,
            college=college,
            union=union,
            is_president=president,
            user=user,
            email=f"{full_name.split()[0].lower()}.jury@demo.cqpm.local",
        )
    return jury


def _session(ctx, staff, jury, *, days, place):
    centre, certification = ctx["centres"]["A"], ctx["certification"]
    date = timezone.localdate() + datetime.timedelta(days=days)
    existing = (
        DeliberationSession.objects.filter(centre=centre, jury=jury, certification=certification, place=place)
        .order_by("pk")
        .first()
    )
    return existing or services.create_session(
        actor=staff,
        centre=centre,
        certification=certification,
        jury=jury,
        date=date,
        place=place,
        late_entry_reason="Données de démonstration : délibération passée saisie après coup."
        if days < 0
        else "",
    )


def _historic_candidate(ctx, staff, birth_name, first_names, born):
    """An earlier candidate, evaluated before the product (proposals and opinions loaded as records)."""
    centre, certification = ctx["centres"]["A"], ctx["certification"]
    birth_date = datetime.date(*born)
    candidate = Candidate.objects.filter(
        centre=centre, birth_name=birth_name, first_names=first_names, birth_date=birth_date
    ).first()
    if candidate is not None:
        return candidate
    tutor = (
        ctx["tutors"]["tutor-a"] if "tutor-a" in ctx.get("tutors", {}) else next(iter(ctx["tutors"].values()))
    )
    candidate = candidate_services.register_candidate(
        centre=centre,
        certification=certification,
        by=staff,
        birth_name=birth_name,
        first_names=first_names,
        sex="F" if first_names in ("Julie", "Claire", "Emma") else "M",
        birth_date=birth_date,
        birth_place="Nancy",
        birth_insee_code="54395",  # INSEE code of Nancy (CPF holders declaration)
        email=f"{first_names.lower()}.{birth_name.lower()}@exemple.test",
        address="5 place Stanislas",
        postcode="54000",
        city="Nancy",
        pathway=Pathway.EMPLOYEE,
        company=tutor.company,
        tutor=tutor,
        registered_on=timezone.localdate() - datetime.timedelta(days=200),
    )
    account = ctx["users"].get("candidate-a")
    if birth_name == "ROBERT" and account is not None and not Candidate.objects.filter(user=account).exists():
        # The demo account `candidate-a` is Julie ROBERT's (closed session 1): linked before the
        # validation, which then creates no second account for her (issue 23).
        candidate.user = account
        candidate.save(update_fields=["user"])
    dossier = candidate.dossier
    candidate_services.update_dossier(
        dossier=dossier,
        by=staff,
        report_due_date=None,
        company_opinion_applies=True,
        items={item.pk: {"modalities": ["workplace_observation"]} for item in dossier.items.all()},
    )
    candidate_services.validate_dossier(dossier=dossier, by=staff)
    candidate.refresh_from_db()
    for competency in certification.competencies.all():
        CommissionProposal.objects.get_or_create(
            candidate=candidate,
            competency=competency,
            defaults={
                "conclusion": "acquired",
                "reason": "Critères observés et résultats attendus atteints.",
            },
        )
        CompanyOpinion.objects.get_or_create(
            candidate=candidate,
            competency=competency,
            defaults={"tutor": tutor, "opinion": "favourable", "signed_at": timezone.now()},
        )
    candidate_services.start_evaluation(candidate=candidate, by=staff)
    candidate_services.mark_awaiting_deliberation(candidate=candidate, by=staff)
    candidate.refresh_from_db()
    return candidate


def _legacy_examination(candidate, session, staff):
    """Earlier candidates were evaluated before the product: staff record when and how (on site, three
    weeks before the jury), so that their award can be declared to the CPF information system."""
    if LegacyExamination.objects.filter(candidate=candidate).exists():
        return
    evaluation_services.record_legacy_examination(
        actor=staff,
        candidate=candidate,
        first_date=session.date - datetime.timedelta(days=21),
        last_date=session.date - datetime.timedelta(days=20),
        delivery_mode=DeliveryMode.ON_SITE,
    )


def _attend_all(session, staff):
    if not session.attendances.exists():
        services.record_attendance(
            actor=staff,
            session=session,
            present_member_ids=list(session.jury.members.values_list("pk", flat=True)),
        )


# What the jury writes for the candidate (printed in the letter; the motivations stay in the PV).
REASONS_FOR_CANDIDATE = {
    "LAMBERT": "Le jury vous encourage à vous représenter : votre maîtrise des autres compétences est solide.",
}


def _decide(session, staff, candidate, override):
    if session.outcomes.filter(candidate=candidate).exists():
        return
    competencies = list(session.certification.competencies.order_by("number"))
    choices = {}
    for position, (decided, motivation) in override.items():
        chosen = {"first": competencies[:1], "last": competencies[-1:], "all": competencies}[position]
        for competency in chosen:
            choices[competency.pk] = (decided, motivation)
    services.record_decisions(
        actor=staff,
        session=session,
        candidate=candidate,
        choices=choices,
        reason_for_candidate=REASONS_FOR_CANDIDATE.get(candidate.birth_name, ""),
    )


# The signatory's title per centre (the name is the centre's `certifier_signatory`).
SIGNATORY_TITLES = {"A": "Déléguée générale de l'UIMM Lorraine", "B": "Délégué général de l'UIMM Rhône-Alpes"}


def _document_settings(ctx):
    for code, centre in ctx.get("centres", {}).items():
        if code in SIGNATORY_TITLES:
            CentreDocumentSettings.objects.get_or_create(
                centre=centre, defaults={"signatory_title": SIGNATORY_TITLES[code]}
            )


def seed(ctx):
    if "certification" not in ctx or "A" not in ctx.get("centres", {}):
        return
    _document_settings(ctx)
    staff = ctx["users"]["staff-a"]
    jury = _jury(ctx, staff)
    sessions = {
        "s1": _session(ctx, staff, jury, days=-60, place="UIMM Lorraine, salle du conseil — Nancy"),
        "s2": _session(ctx, staff, jury, days=-7, place="UIMM Lorraine, salle Jean Prouvé — Nancy"),
        # The jury meets today: it may record attendance and decide (not before the deliberation's day).
        "s3": _session(ctx, staff, jury, days=0, place="UIMM Lorraine, salle Émile Gallé — Nancy"),
    }
    for key in ("s1", "s2"):
        session = sessions[key]
        if session.status == SessionStatus.CLOSED:
            continue
        if session.unions_asked_on is None:
            services.record_convocations(
                actor=staff,
                session=session,
                unions_asked_on=session.date - datetime.timedelta(days=30),
                members_notified_on=session.date - datetime.timedelta(days=15),
                notify=False,
            )
        for session_key, birth_name, first_names, born, override in HISTORY:
            if session_key != key:
                continue
            candidate = _historic_candidate(ctx, staff, birth_name, first_names, born)
            _legacy_examination(candidate, session, staff)
            if not session.entries.filter(candidate=candidate).exists():
                services.add_candidates(actor=staff, session=session, candidates=[candidate])
            _decide(session, staff, candidate, override)
        _attend_all(session, staff)
    s1 = sessions["s1"]
    if s1.status != SessionStatus.CLOSED:
        # Closed with its documents rendered here, synchronously (no worker needed for the demo).
        _close_inline(s1, staff)
    s3 = sessions["s3"]
    if s3.unions_asked_on is None:
        services.record_convocations(
            actor=staff,
            session=s3,
            unions_asked_on=s3.date - datetime.timedelta(days=20),
            members_notified_on=None,
            notify=False,
        )
    for candidate in ctx.get("evaluated_candidates", []):
        candidate.refresh_from_db()
        if (
            candidate.status == CandidateStatus.AWAITING_DELIBERATION
            and not candidate.deliberation_entries.exists()
        ):
            services.add_candidates(actor=staff, session=s3, candidates=[candidate])
    ctx["deliberation_sessions"] = sessions
    if "stdout" in ctx:
        ctx["stdout"].write(
            "Délibérations : 1 session close (PV produit), 1 session décidée à clore, 1 session prête à délibérer."
        )


def _close_inline(session, staff):
    # close_session requests the documents (queued once seed_demo's transaction commits); producing
    # them inline right away makes them ready at once, and the queued jobs then find them done.
    services.close_session(actor=staff, session=session)
    session.refresh_from_db()
    documents.produce_session_documents_inline(session, actor=staff)
    return session
