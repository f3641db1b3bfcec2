"""The two-tenant world of the permission matrix, built with the apps' factories and services.

Centre A holds the objects the roles of the matrix work on; centre B holds the same kinds of objects
for another tenant (its ids are tried by every role: IDOR). Each tenant has its own published CQPM so
that a competency of the other tenant's CQPM can be mixed into a URL of one's own candidate.
"""

import datetime
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.utils import timezone

from candidates.models import CandidateStatus
from core.models import Role
from deliberations.models import DocumentKind, DocumentStatus, GeneratedDocument
from evaluations import services as evaluation_services
from evaluations.models import ScoringSheet
from reporting.models import AccrochageBatch
from tests.candidates.factories import (
    MINIMAL_PDF,
    CandidateDocumentFactory,
    CandidateFactory,
    CompanyFactory,
    TutorFactory,
)
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.deliberations.factories import JuryUserFactory, ready_session
from tests.evaluations.factories import (
    CommissionFactory,
    CommissionMemberFactory,
    ConflictOfInterestFactory,
    EvaluationSessionFactory,
    EvaluatorFactory,
    TutorInvitationFactory,
)
from tests.referential.factories import CertificationFactory

# The roles of the matrix (the issue asks for at least 8).
ROLES = (
    "anonymous",
    "staff_a",  # centre staff of centre A
    "staff_b",  # centre staff of centre B
    "superuser",  # platform administrator, both centres
    "evaluator_in",  # evaluator, member of the commission that evaluates the candidate of A
    "evaluator_out",  # evaluator of centre A, member of another commission
    "tutor_of",  # tutor of the candidate of A
    "tutor_other",  # tutor of another candidate of A
    "jury",  # jury member sitting on the deliberation session of A
    "candidate",  # the candidate's own account: A's deliberated candidate (issue 23)
)


@dataclass
class Tenant:
    """The objects of one centre, by the name the URL builders use."""

    centre: object
    objects: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.objects[name]


def _tenant(code, *, staff, evaluator_in, evaluator_out, tutor_user, other_tutor_user, jury_user):
    centre = CentreFactory(code=code, name=f"Centre {code}")
    for user in (staff, evaluator_in, evaluator_out, tutor_user, other_tutor_user, jury_user):
        user.centres.add(centre)
    certification = CertificationFactory(code=f"CQPM MATRICE {code}", rncp_number="RNCP34567", rncp_level="5")
    draft = CertificationFactory(code=f"CQPM BROUILLON {code}", status="draft")

    company = CompanyFactory(centre=centre)
    tutor = TutorFactory(company=company, user=tutor_user)
    other_company = CompanyFactory(centre=centre)
    other_tutor = TutorFactory(company=other_company, user=other_tutor_user)

    # The candidate being evaluated: validated dossier, convened before the commission of evaluator_in.
    commission = CommissionFactory(centre=centre)
    member = CommissionMemberFactory(commission=commission, user=evaluator_in, is_president=True)
    other_member = CommissionMemberFactory(commission=commission)
    other_commission = CommissionFactory(centre=centre)
    person_membership = CommissionMemberFactory(
        commission=other_commission, user=evaluator_out, is_president=True
    )
    session = EvaluationSessionFactory(commission=commission)
    candidate = CandidateFactory(
        centre=centre,
        certification=certification,
        company=company,
        tutor=tutor,
        status=CandidateStatus.DOSSIER_VALIDATED,
    )
    convocation = evaluation_services.convene_candidate(
        session=session, candidate=candidate, time_slot=datetime.time(9, 0), by=staff
    )
    candidate.refresh_from_db()
    other_candidate = CandidateFactory(
        centre=centre,
        certification=certification,
        company=other_company,
        tutor=other_tutor,
        status=CandidateStatus.DOSSIER_VALIDATED,
    )
    evaluation_services.convene_candidate(
        session=EvaluationSessionFactory(commission=other_commission),
        candidate=other_candidate,
        time_slot=datetime.time(10, 0),
        by=staff,
    )
    competency = certification.competencies.order_by("number").first()
    sheet = ScoringSheet.objects.get(candidate=candidate, competency=competency, evaluator=evaluator_in)
    # evaluator_in (president) has submitted his sheet: the commission's proposal page is open to him.
    sheet = evaluation_services.save_sheet(
        sheet=sheet,
        by=evaluator_in,
        expected_version=sheet.version,
        judgements={criterion.pk: ("acquired", "") for criterion in competency.criteria.all()},
        conclusion="acquired",
        justification="Critères observés en situation de travail.",
        submit=True,
    )
    document = CandidateDocumentFactory(candidate=candidate, uploaded_by=staff)
    conflict = ConflictOfInterestFactory(user=other_member.user, company=other_company)
    invitation_token = f"jeton-matrice-{code}-" + "x" * 24
    TutorInvitationFactory(tutor=tutor, candidate=candidate, token=invitation_token)

    # The deliberation session of the jury member, with one candidate awaiting the decision.
    deliberation = ready_session(centre=centre, certification=certification, n=1, jury_user=jury_user)
    jury = deliberation.jury
    deliberated = deliberation.entries.get().candidate
    certificate = GeneratedDocument(
        kind=DocumentKind.CERTIFICATE,
        session=deliberation,
        candidate=deliberated,
        number=f"CQPM-{code}-2026-000001",
        status=DocumentStatus.DONE,
        is_current=True,
        finished_at=timezone.now(),
    )
    certificate.file.save(f"certificat-{code}.pdf", ContentFile(MINIMAL_PDF), save=False)
    certificate.save()
    # The deliberated candidate's own upload (issue 23: the receipt of his space) and an appeal of his.
    own_upload = CandidateDocumentFactory(candidate=deliberated, kind="evidence", uploaded_by=None)
    from deliberations.models import Appeal

    appeal = Appeal.objects.create(
        candidate=deliberated, session=deliberation, reason="Je conteste la décision : motifs de la matrice."
    )
    batch = AccrochageBatch(centre=centre, session=deliberation, sha256="0" * 64, record_count=0)
    batch.file.save(f"accrochage-{code}.xml", ContentFile(b"<?xml version='1.0'?><flux/>"), save=False)
    batch.save()
    from candidates.models import ImportJob, ImportJobStatus

    import_job = ImportJob.objects.create(
        centre=centre, created_by=staff, original_name=f"import-{code}.csv", status=ImportJobStatus.INVALID
    )
    from candidates.services import record_access_request

    access_request = record_access_request(
        candidate=candidate,
        by=staff,
        requester="Le candidat",
        received_on=timezone.localdate(),
        channel="email",
        identity_check="Pièce d'identité comparée au dossier.",
    )

    return Tenant(
        centre,
        {
            "certification": certification,
            "draft": draft,
            "company": company,
            "tutor": tutor,
            "candidate": candidate,
            "competency": competency,
            "document": document,
            "commission": commission,
            "member": member,
            "session": session,
            "convocation": convocation,
            "evaluator": evaluator_in,
            "sheet": sheet,
            "conflict": conflict,
            "invitation_token": invitation_token,
            "deliberation": deliberation,
            "jury": jury,
            "jury_member": jury.members.order_by("pk").last(),
            "deliberated": deliberated,
            "certificate": certificate,
            "batch": batch,
            "import_job": import_job,
            # « Personnes »: accounts of the centre and their seats
            "person": evaluator_out,
            "person_membership": person_membership,
            "jury_person": jury_user,
            "jury_seat": jury.members.get(user=jury_user),
            "access_request": access_request,
            "own_upload": own_upload,
            "appeal": appeal,
        },
    )


def build_world():
    users = {
        "staff_a": StaffFactory(username="matrice-staff-a"),
        "staff_b": StaffFactory(username="matrice-staff-b"),
        "superuser": UserFactory(username="matrice-admin", role=Role.STAFF, is_superuser=True, is_staff=True),
        "evaluator_in": EvaluatorFactory(username="matrice-evaluateur-in"),
        "evaluator_out": EvaluatorFactory(username="matrice-evaluateur-out"),
        "tutor_of": UserFactory(username="matrice-tuteur", role=Role.TUTOR),
        "tutor_other": UserFactory(username="matrice-autre-tuteur", role=Role.TUTOR),
        "jury": JuryUserFactory(username="matrice-jury"),
        "candidate": UserFactory(username="matrice-candidat", role=Role.CANDIDATE),
    }
    a = _tenant(
        "A",
        staff=users["staff_a"],
        evaluator_in=users["evaluator_in"],
        evaluator_out=users["evaluator_out"],
        tutor_user=users["tutor_of"],
        other_tutor_user=users["tutor_other"],
        jury_user=users["jury"],
    )
    # Centre B: same kinds of objects, worked on by people who are not roles of the matrix.
    b = _tenant(
        "B",
        staff=users["staff_b"],
        evaluator_in=EvaluatorFactory(username="b-evaluateur-in"),
        evaluator_out=EvaluatorFactory(username="b-evaluateur-out"),
        tutor_user=UserFactory(username="b-tuteur", role=Role.TUTOR),
        other_tutor_user=UserFactory(username="b-autre-tuteur", role=Role.TUTOR),
        jury_user=JuryUserFactory(username="b-jury"),
    )
    # The candidate's account is the deliberated candidate of A's (its certificate is in the world).
    users["candidate"].centres.set([a.centre])
    a["deliberated"].user = users["candidate"]
    a["deliberated"].save(update_fields=["user"])
    return users, a, b
