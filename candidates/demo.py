"""Demo data of the candidates app: companies, tutors and candidates of centres A and B.

Everything goes through the services (as a staff member would do it). Idempotent: companies are found
by SIRET, tutors by email, candidates by identity; nothing existing is changed.

Puts in ctx:
- ctx["companies"]: {key: Company}; ctx["tutors"]: {key: Tutor} — tutor-a (user « tutor-a ») at
  « Ateliers Mécaniques de Lorraine », tutor-b (user « tutor-b ») at « Chaudronnerie du Val de
  Meurthe », both in centre A;
- ctx["candidates"]: {key: Candidate} (12 in centre A, 3 in centre B);
- ctx["candidates_ready"]: the centre A candidates with a validated dossier, for the evaluations demo
  to convene (it moves them on to « en évaluation »; deliberations then to « délibéré »).
"""

import datetime

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.text import slugify

from referential.models import ModalityCode

from . import services
from .models import Candidate, CandidateStatus, Company, Pathway, Tutor
from .validators import luhn_is_valid

OBS = ModalityCode.WORKPLACE_OBSERVATION
QUEST = ModalityCode.WORKPLACE_QUESTIONING
PROJ = ModalityCode.PROJECT_PRESENTATION

DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def siret_from(partial):
    """Complete 13 digits with the Luhn check digit (demo SIRETs are fictitious but valid)."""
    for digit in "0123456789":
        if luhn_is_valid(partial + digit):
            return partial + digit
    raise ValueError(partial)


COMPANIES = [
    # key, centre, name, partial SIRET, address, postcode, city, OPCO
    (
        "aml",
        "A",
        "Ateliers Mécaniques de Lorraine",
        "4128530000001",
        "5 rue des Forges",
        "54000",
        "Nancy",
        "OPCO 2i",
    ),
    (
        "cvm",
        "A",
        "Chaudronnerie du Val de Meurthe",
        "4128530000002",
        "ZI du Port",
        "54110",
        "Dombasle-sur-Meurthe",
        "OPCO 2i",
    ),
    (
        "fsn",
        "A",
        "Fonderie Saint-Nicolas",
        "4128530000003",
        "2 avenue de la Gare",
        "54210",
        "Saint-Nicolas-de-Port",
        "",
    ),
    ("fdr", "B", "Forges du Rhône", "5127480000001", "40 quai Perrache", "69002", "Lyon", "OPCO 2i"),
    (
        "usl",
        "B",
        "Usinage Lyonnais",
        "5127480000002",
        "9 rue de l'Industrie",
        "69100",
        "Villeurbanne",
        "OPCO 2i",
    ),
]

TUTORS = [
    # key, company, user, first, last, function, email
    ("tutor-a", "aml", "tutor-a", "Marc", "Girard", "Chef d'atelier", "tutor-a@demo.cqpm.local"),
    ("tutor-b", "cvm", "tutor-b", "Nadia", "Roux", "Responsable de production", "tutor-b@demo.cqpm.local"),
    ("fsn-tutor", "fsn", None, "Julien", "Marchal", "Responsable maintenance", "j.marchal@fonderie-sn.test"),
    ("fdr-tutor", "fdr", None, "Louis", "Martin", "Chef d'équipe", "l.martin@forges-rhone.test"),
]

# key, centre, birth name, first names, sex, birth date, pathway, tutor key, modalities, target, extra
CANDIDATES = [
    (
        "a01",
        "A",
        "Lambert",
        "Thomas",
        "M",
        (1994, 3, 12),
        Pathway.EMPLOYEE,
        "tutor-a",
        [OBS, QUEST],
        CandidateStatus.DOSSIER_VALIDATED,
        {},
    ),
    (
        "a02",
        "A",
        "Moreau",
        "Camille Louise",
        "F",
        (1998, 11, 2),
        Pathway.EMPLOYEE,
        "tutor-a",
        [OBS, PROJ],
        CandidateStatus.DOSSIER_VALIDATED,
        {"report": True},
    ),
    (
        "a03",
        "A",
        "Nguyen",
        "Kevin",
        "M",
        (2001, 6, 23),
        Pathway.APPRENTICE,
        "tutor-b",
        [OBS],
        CandidateStatus.DOSSIER_VALIDATED,
        {},
    ),
    (
        "a04",
        "A",
        "Fontaine",
        "Inès",
        "F",
        (2000, 1, 30),
        Pathway.APPRENTICE,
        "tutor-b",
        [QUEST, PROJ],
        CandidateStatus.DOSSIER_VALIDATED,
        {"report": True},
    ),
    (
        "a05",
        "A",
        "Garnier",
        "Sylvie",
        "F",
        (1979, 9, 8),
        Pathway.VAE,
        None,
        [PROJ],
        CandidateStatus.DOSSIER_VALIDATED,
        {"report": True, "late": True},
    ),
    (
        "a06",
        "A",
        "Benoît",
        "Rachid",
        "M",
        (1988, 4, 17),
        Pathway.JOB_SEEKER,
        None,
        [QUEST],
        CandidateStatus.DOSSIER_VALIDATED,
        {},
    ),
    (
        "a07",
        "A",
        "Perrin",
        "Hugo",
        "M",
        (1996, 12, 5),
        Pathway.EMPLOYEE,
        "fsn-tutor",
        [OBS],
        CandidateStatus.DOSSIER_VALIDATED,
        {},
    ),
    (
        "a08",
        "A",
        "Chevalier",
        "Laura",
        "F",
        (1993, 7, 21),
        Pathway.OTHER,
        "fsn-tutor",
        [OBS, QUEST],
        CandidateStatus.REGISTERED,
        {},
    ),
    (
        "a09",
        "A",
        "Da Silva",
        "Manuel",
        "M",
        (1975, 2, 14),
        Pathway.VAE,
        None,
        [],
        CandidateStatus.REGISTERED,
        {},
    ),
    (
        "a10",
        "A",
        "Robin",
        "Chloé",
        "F",
        (1999, 10, 9),
        Pathway.JOB_SEEKER,
        None,
        [OBS],
        CandidateStatus.REGISTERED,
        {},
    ),
    (
        "a11",
        "A",
        "Mercier",
        "Antoine",
        "M",
        (1990, 5, 28),
        Pathway.EMPLOYEE,
        "tutor-a",
        [OBS],
        CandidateStatus.WITHDRAWN,
        {"reason": "Changement de poste dans l'entreprise."},
    ),
    (
        "a12",
        "A",
        "Lefort",
        "Amandine",
        "F",
        (1997, 8, 3),
        Pathway.APPRENTICE,
        "tutor-b",
        [OBS, QUEST],
        CandidateStatus.DOSSIER_VALIDATED,
        {},
    ),
    (
        "b01",
        "B",
        "Bonnet",
        "Mathieu",
        "M",
        (1992, 1, 19),
        Pathway.EMPLOYEE,
        "fdr-tutor",
        [OBS],
        CandidateStatus.DOSSIER_VALIDATED,
        {},
    ),
    (
        "b02",
        "B",
        "Roussel",
        "Élodie",
        "F",
        (1985, 3, 3),
        Pathway.VAE,
        None,
        [PROJ],
        CandidateStatus.REGISTERED,
        {},
    ),
    (
        "b03",
        "B",
        "Faure",
        "Yanis",
        "M",
        (2002, 9, 14),
        Pathway.JOB_SEEKER,
        None,
        [QUEST],
        CandidateStatus.REGISTERED,
        {},
    ),
]


def _companies(ctx):
    staff = {"A": ctx["users"]["staff-a"], "B": ctx["users"]["staff-b"]}
    companies = {}
    for key, centre_code, name, partial, address, postcode, city, opco in COMPANIES:
        centre = ctx["centres"][centre_code]
        siret = siret_from(partial)
        company = Company.objects.filter(centre=centre, siret=siret).first()
        if company is None:
            company = services.create_company(
                centre=centre,
                by=staff[centre_code],
                name=name,
                siret=siret,
                address=address,
                postcode=postcode,
                city=city,
                opco=opco,
            )
        companies[key] = company
    return companies


def _tutors(ctx, companies):
    tutors = {}
    for key, company_key, username, first, last, function, email in TUTORS:
        company = companies[company_key]
        tutor = Tutor.objects.filter(company=company, email=email).first()
        if tutor is None:
            tutor = services.create_tutor(
                company=company,
                by=ctx["users"]["staff-a" if company.centre.code == "A" else "staff-b"],
                first_name=first,
                last_name=last,
                function=function,
                email=email,
                phone="03 83 12 34 56",
            )
        if username and tutor.user_id is None:
            # Demo shortcut for the invitation the evaluations app sends: link the demo tutor account.
            tutor.user = ctx["users"][username]
            tutor.save(update_fields=["user"])
        tutors[key] = tutor
    return tutors


def _candidate(ctx, spec, tutors, certification):
    key, centre_code, birth_name, first_names, sex, born, pathway, tutor_key, modalities, target, extra = spec
    centre = ctx["centres"][centre_code]
    by = ctx["users"]["staff-a" if centre_code == "A" else "staff-b"]
    birth_date = datetime.date(*born)
    existing = Candidate.objects.filter(
        centre=centre, birth_name=birth_name, first_names=first_names, birth_date=birth_date
    ).first()
    if existing is not None:
        return existing
    tutor = tutors.get(tutor_key)
    slug = slugify(f"{first_names.split()[0]}.{birth_name}").replace("-", ".")
    candidate = services.register_candidate(
        centre=centre,
        certification=certification,
        by=by,
        birth_name=birth_name,
        first_names=first_names,
        sex=sex,
        birth_date=birth_date,
        birth_place="Nancy" if centre_code == "A" else "Lyon",
        birth_insee_code="54395" if centre_code == "A" else "69123",  # INSEE codes of Nancy, Lyon
        email=f"{slug}@exemple.test",
        phone="06 12 34 56 78",
        address="10 rue de la République",
        postcode="54000" if centre_code == "A" else "69001",
        city="Nancy" if centre_code == "A" else "Lyon",
        pathway=pathway,
        company=tutor.company if tutor else None,
        tutor=tutor,
        registered_on=timezone.localdate() - datetime.timedelta(days=60),
    )
    dossier = candidate.dossier
    today = timezone.localdate()
    due = today - datetime.timedelta(days=3) if extra.get("late") else today + datetime.timedelta(days=21)
    services.update_dossier(
        dossier=dossier,
        by=by,
        report_due_date=due if PROJ in modalities else None,
        company_opinion_applies=tutor is not None and pathway != Pathway.VAE,
        items={item.pk: {"modalities": modalities} for item in dossier.items.all()},
    )
    if target in (CandidateStatus.DOSSIER_VALIDATED,):
        services.validate_dossier(dossier=dossier, by=by)
    if target == CandidateStatus.WITHDRAWN:
        services.withdraw_candidate(candidate=candidate, by=by, reason=extra["reason"])
    if extra.get("report"):
        services.upload_document(
            candidate=candidate, kind="report", uploaded_file=ContentFile(DEMO_PDF, name="rapport.pdf"), by=by
        )
    candidate.refresh_from_db()
    return candidate


def seed(ctx):
    certification = ctx["certification"]
    companies = _companies(ctx)
    tutors = _tutors(ctx, companies)
    candidates = {spec[0]: _candidate(ctx, spec, tutors, certification) for spec in CANDIDATES}
    ctx["companies"] = companies
    ctx["tutors"] = tutors
    ctx["candidates"] = candidates
    ctx["candidates_ready"] = [
        c
        for key, c in candidates.items()
        if key.startswith("a") and c.status == CandidateStatus.DOSSIER_VALIDATED
    ]
    if "stdout" in ctx:
        ctx["stdout"].write(
            f"Candidats : {len(candidates)} ({len(companies)} entreprises, {len(tutors)} tuteurs)."
        )
