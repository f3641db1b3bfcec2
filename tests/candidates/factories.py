"""Factories of the candidates app, imported by the other apps' tests.

- `CentreFactory`, `UserFactory`, `StaffFactory` live in tests/core/factories.py (core's models) and are
  re-exported here for older imports.
- `CompanyFactory(centre=...)` — a valid SIRET (Luhn) per company.
- `TutorFactory(company=...)` — with a user account of the tutor role (member of the company's centre);
  `TutorFactory(user=None)` for a contact without an account.
- `CandidateFactory(centre=..., certification=...)` — an employee with company and tutor of the same
  centre, bound to a published CQPM (`tests.referential.factories.CertificationFactory`) and with a
  dossier holding one item per competency (modality « observation en situation de travail », company
  opinion applies). Traits: `CandidateFactory(vae=True)`, `CandidateFactory(job_seeker=True)` (no company,
  no tutor, no company opinion). A status past `registered` (e.g. `status="in_evaluation"`) gives a
  validated (frozen) dossier. `CandidateFactory(with_dossier=False)` skips the dossier.
- `CandidateDocumentFactory(candidate=...)` — a small real PDF stored through the default storage.
"""

import hashlib

import factory
from django.utils import timezone

from candidates.models import (
    Candidate,
    CandidateDocument,
    CandidateStatus,
    Company,
    DocumentKind,
    Dossier,
    DossierCompetency,
    Pathway,
    Sex,
    Tutor,
)
from core.models import Role
from referential.models import ModalityCode
from tests.core.factories import CentreFactory, StaffFactory, UserFactory  # noqa: F401 - re-exported
from tests.referential.factories import CertificationFactory

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def luhn_check_digit(partial):
    """The digit that makes `partial + digit` a Luhn number."""
    for digit in "0123456789":
        candidate = partial + digit
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char)
            if index % 2 == 1:
                value = value * 2 - 9 if value * 2 > 9 else value * 2
            total += value
        if total % 10 == 0:
            return digit
    raise AssertionError("unreachable")


def make_siret(n):
    partial = f"7{n:012d}"
    return partial + luhn_check_digit(partial)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    centre = factory.SubFactory(CentreFactory)
    name = factory.Sequence(lambda n: f"Mécanique de test {n + 1}")
    siret = factory.Sequence(make_siret)
    address = "1 rue de l'Usine"
    postcode = "54000"
    city = "Nancy"
    opco = "OPCO 2i"


class TutorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tutor
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    user = factory.SubFactory(UserFactory, role=Role.TUTOR)
    first_name = "Marc"
    last_name = factory.Sequence(lambda n: f"Tuteur{n + 1}")
    function = "Chef d'équipe"
    email = factory.Sequence(lambda n: f"tuteur{n + 1}@entreprise.test")
    phone = "03 83 00 00 00"

    @factory.post_generation
    def link_user_centre(obj, create, extracted, **kwargs):
        if create and obj.user_id:
            obj.user.centres.add(obj.company.centre)


def build_dossier(candidate, *, modalities=None, validated=False, validated_by=None):
    """The dossier of `candidate` with one item per competency of its CQPM version."""
    opinion = candidate.pathway != Pathway.VAE and candidate.tutor_id is not None
    dossier, _ = Dossier.objects.get_or_create(
        candidate=candidate,
        defaults={
            "company_opinion_applies": opinion,
            "report_due_date": timezone.localdate() + timezone.timedelta(days=30),
        },
    )
    codes = list(modalities) if modalities is not None else [ModalityCode.WORKPLACE_OBSERVATION.value]
    for competency in candidate.certification.competencies.all():
        DossierCompetency.objects.get_or_create(
            dossier=dossier, competency=competency, defaults={"modalities": codes}
        )
    if validated and dossier.validated_at is None:
        dossier.validated_at = timezone.now()
        dossier.validated_by = validated_by
        dossier.save(update_fields=["validated_at", "validated_by"])
    return dossier


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate
        skip_postgeneration_save = True

    class Params:
        vae = factory.Trait(pathway=Pathway.VAE, company=None, tutor=None)
        job_seeker = factory.Trait(pathway=Pathway.JOB_SEEKER, company=None, tutor=None)

    centre = factory.SubFactory(CentreFactory)
    certification = factory.SubFactory(CertificationFactory)
    reference = factory.LazyAttributeSequence(lambda o, n: f"{o.centre.code}-2026-{n + 1:05d}")
    birth_name = factory.Sequence(lambda n: f"Candidat{n + 1}")
    usage_name = ""
    first_names = "Léa Marie"
    sex = Sex.FEMALE
    birth_date = factory.Sequence(lambda n: timezone.datetime(1995, 1, 1).date() + timezone.timedelta(days=n))
    birth_place = "Metz"
    birth_country = "France"
    email = factory.Sequence(lambda n: f"candidat{n + 1}@exemple.test")
    phone = "06 00 00 00 00"
    address = "3 rue des Lilas"
    postcode = "57000"
    city = "Metz"
    pathway = Pathway.EMPLOYEE
    company = factory.SubFactory(CompanyFactory, centre=factory.SelfAttribute("..centre"))
    tutor = factory.SubFactory(TutorFactory, company=factory.SelfAttribute("..company"))
    registered_on = factory.LazyFunction(timezone.localdate)
    status = CandidateStatus.REGISTERED
    status_changed_at = factory.LazyFunction(timezone.now)
    consent_given_at = None

    @factory.post_generation
    def with_dossier(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        validated = obj.status not in (CandidateStatus.REGISTERED, CandidateStatus.WITHDRAWN)
        build_dossier(obj, validated=validated, **kwargs)


class CandidateDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CandidateDocument

    candidate = factory.SubFactory(CandidateFactory)
    kind = DocumentKind.REPORT
    file = factory.django.FileField(filename="rapport.pdf", data=MINIMAL_PDF)
    original_name = "rapport.pdf"
    content_type = "application/pdf"
    size = len(MINIMAL_PDF)
    sha256 = hashlib.sha256(MINIMAL_PDF).hexdigest()
    is_late = False
