import datetime

import pytest
from django.utils import timezone

from candidates import services
from candidates.models import (
    Candidate,
    CandidateStatus,
    CandidateStatusChange,
    Company,
    LegalBasis,
    Pathway,
)
from candidates.validators import siret_is_valid
from core.exceptions import BusinessRuleError
from core.models import AuditEvent
from referential.models import CertificationStatus, ModalityCode
from tests.candidates.factories import CandidateFactory, CompanyFactory, TutorFactory, make_siret
from tests.referential.factories import CertificationFactory

S = CandidateStatus


def identity(**overrides):
    data = {
        "birth_name": "Durand",
        "first_names": "Julie Anne",
        "sex": "F",
        "birth_date": datetime.date(1990, 5, 17),
        "birth_place": "Nancy",
        "email": "julie.durand@exemple.test",
    }
    data.update(overrides)
    return data


# --- SIRET ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("siret", "valid"),
    [
        ("73282932000074", True),  # a real, valid SIRET
        ("7328 2932 0000 74", True),  # spaces tolerated
        ("73282932000075", False),  # wrong check digit
        ("7328293200007", False),  # 13 digits
        ("7328293200007A", False),
        ("35600000000010", True),  # La Poste: digit sum multiple of 5, not Luhn
        ("35600000000011", False),  # neither rule
        ("", False),
    ],
)
def test_siret_check_digit(siret, valid):
    assert siret_is_valid(siret) is valid


@pytest.mark.django_db
def test_create_company_refuses_bad_siret_and_duplicates_in_centre(centre_a, centre_b, staff_a, staff_b):
    with pytest.raises(BusinessRuleError, match="clé de contrôle"):
        services.create_company(centre=centre_a, by=staff_a, name="X", siret="73282932000075")
    company = services.create_company(centre=centre_a, by=staff_a, name="Forges", siret="732 829 320 00074")
    assert company.siret == "73282932000074"
    with pytest.raises(BusinessRuleError, match="existe déjà"):
        services.create_company(centre=centre_a, by=staff_a, name="Autre", siret="73282932000074")
    # Another centre may register the same company.
    services.create_company(centre=centre_b, by=staff_b, name="Forges", siret="73282932000074")
    with pytest.raises(BusinessRuleError, match="centre"):
        services.create_company(centre=centre_b, by=staff_a, name="Y", siret=make_siret(99))
    assert Company.objects.count() == 2
    assert AuditEvent.objects.filter(action="company.created").count() == 2


# --- registration --------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_binds_the_version_in_force_creates_dossier_history_and_audit(
    centre_a, staff_a, certification, company_a, tutor_a
):
    candidate = services.register_candidate(
        centre=centre_a,
        certification=certification,
        by=staff_a,
        pathway=Pathway.EMPLOYEE,
        company=company_a,
        tutor=tutor_a,
        **identity(),
    )
    assert candidate.certification == certification
    assert candidate.status == S.REGISTERED
    assert candidate.reference == f"A-{timezone.localdate().year}-00001"
    assert [i.competency.number for i in candidate.dossier.items.all()] == [1, 2, 3]
    assert candidate.dossier.company_opinion_applies is True
    change = CandidateStatusChange.objects.get(candidate=candidate)
    assert (change.from_status, change.to_status, change.by) == ("", S.REGISTERED, staff_a)
    event = AuditEvent.objects.get(action="candidate.registered")
    assert event.target_id == str(candidate.pk)
    assert "Durand" not in event.message and "Julie" not in str(event.data)
    second = services.register_candidate(
        centre=centre_a,
        certification=certification,
        by=staff_a,
        pathway=Pathway.VAE,
        **identity(birth_name="Roy"),
    )
    assert second.reference.endswith("-00002")


@pytest.mark.django_db
def test_register_refuses_a_version_that_is_not_in_force(centre_a, staff_a):
    draft = CertificationFactory(code="CQPM X", status=CertificationStatus.DRAFT)
    with pytest.raises(BusinessRuleError, match="version en vigueur"):
        services.register_candidate(
            centre=centre_a, certification=draft, by=staff_a, pathway=Pathway.VAE, **identity()
        )
    assert not Candidate.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pathway", "with_company", "ok"),
    [
        (Pathway.EMPLOYEE, True, True),
        (Pathway.EMPLOYEE, False, False),
        (Pathway.APPRENTICE, True, True),
        (Pathway.APPRENTICE, False, False),
        (Pathway.OTHER, False, False),
        (Pathway.JOB_SEEKER, False, True),
        (Pathway.VAE, False, True),
        (Pathway.VAE, True, True),
    ],
)
def test_company_and_tutor_required_except_job_seekers_and_vae(
    centre_a, staff_a, certification, company_a, tutor_a, pathway, with_company, ok
):
    kwargs = {"company": company_a, "tutor": tutor_a} if with_company else {}
    if ok:
        candidate = services.register_candidate(
            centre=centre_a, certification=certification, by=staff_a, pathway=pathway, **kwargs, **identity()
        )
        # Never a company opinion in VAE, even with a company.
        assert candidate.dossier.company_opinion_applies is (pathway != Pathway.VAE and with_company)
    else:
        with pytest.raises(BusinessRuleError, match="obligatoires"):
            services.register_candidate(
                centre=centre_a,
                certification=certification,
                by=staff_a,
                pathway=pathway,
                **kwargs,
                **identity(),
            )


@pytest.mark.django_db
def test_register_refuses_company_of_another_centre_and_tutor_of_another_company(
    centre_a, centre_b, staff_a, certification, company_a
):
    foreign = CompanyFactory(centre=centre_b)
    with pytest.raises(BusinessRuleError, match="rattachée"):
        services.register_candidate(
            centre=centre_a,
            certification=certification,
            by=staff_a,
            pathway=Pathway.EMPLOYEE,
            company=foreign,
            tutor=TutorFactory(company=foreign),
            **identity(),
        )
    with pytest.raises(BusinessRuleError, match="n'appartient pas"):
        services.register_candidate(
            centre=centre_a,
            certification=certification,
            by=staff_a,
            pathway=Pathway.EMPLOYEE,
            company=company_a,
            tutor=TutorFactory(company=CompanyFactory(centre=centre_a)),
            **identity(),
        )


@pytest.mark.django_db
def test_consent_basis_requires_consent(centre_a, staff_a, certification):
    with pytest.raises(BusinessRuleError, match="consentement"):
        services.register_candidate(
            centre=centre_a,
            certification=certification,
            by=staff_a,
            pathway=Pathway.VAE,
            legal_basis=LegalBasis.CONSENT,
            **identity(),
        )
    candidate = services.register_candidate(
        centre=centre_a,
        certification=certification,
        by=staff_a,
        pathway=Pathway.VAE,
        legal_basis=LegalBasis.CONSENT,
        consent_given=True,
        **identity(),
    )
    assert candidate.consent_given_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "duplicate"),
    [
        ({}, True),
        ({"birth_name": "DURAND", "first_names": "julie  anne"}, True),
        ({"birth_name": "Durând"}, True),
        ({"first_names": "Julie"}, False),
        ({"birth_date": datetime.date(1990, 5, 18)}, False),
    ],
)
def test_duplicate_detection_warns_before_creating(centre_a, staff_a, certification, overrides, duplicate):
    existing = services.register_candidate(
        centre=centre_a, certification=certification, by=staff_a, pathway=Pathway.VAE, **identity()
    )
    kwargs = {"centre": centre_a, "certification": certification, "by": staff_a, "pathway": Pathway.VAE}
    if duplicate:
        with pytest.raises(services.DuplicateCandidateError) as info:
            services.register_candidate(**kwargs, **identity(**overrides))
        assert info.value.duplicates == [existing]
        assert Candidate.objects.count() == 1
        services.register_candidate(**kwargs, confirm_duplicate=True, **identity(**overrides))
    else:
        services.register_candidate(**kwargs, **identity(**overrides))
    assert Candidate.objects.count() == 2


@pytest.mark.django_db
def test_same_person_in_another_centre_is_not_a_duplicate(
    centre_a, centre_b, staff_a, staff_b, certification
):
    services.register_candidate(
        centre=centre_a, certification=certification, by=staff_a, pathway=Pathway.VAE, **identity()
    )
    services.register_candidate(
        centre=centre_b, certification=certification, by=staff_b, pathway=Pathway.VAE, **identity()
    )
    assert Candidate.objects.count() == 2


# --- lifecycle ------------------------------------------------------------------------------

ALL = list(S)
ALLOWED = {
    (S.REGISTERED, S.DOSSIER_VALIDATED),
    (S.REGISTERED, S.WITHDRAWN),
    (S.DOSSIER_VALIDATED, S.IN_EVALUATION),
    (S.DOSSIER_VALIDATED, S.WITHDRAWN),
    (S.DOSSIER_VALIDATED, S.REGISTERED),  # only with an unfrozen dossier: reopen_dossier
    (S.IN_EVALUATION, S.AWAITING_DELIBERATION),
    (S.IN_EVALUATION, S.WITHDRAWN),
    (S.AWAITING_DELIBERATION, S.DELIBERATED),
    (S.AWAITING_DELIBERATION, S.IN_EVALUATION),
    (S.AWAITING_DELIBERATION, S.WITHDRAWN),
}


@pytest.mark.django_db
@pytest.mark.parametrize("from_status", ALL)
@pytest.mark.parametrize("to_status", ALL)
def test_transition_table(staff_a, centre_a, from_status, to_status):
    candidate = CandidateFactory(centre=centre_a, status=from_status)
    if from_status == S.REGISTERED and to_status == S.DOSSIER_VALIDATED:
        candidate.dossier.validated_at = timezone.now()
        candidate.dossier.save()
    if from_status == S.DOSSIER_VALIDATED and to_status == S.REGISTERED:
        candidate.dossier.validated_at = None  # what reopen_dossier does first
        candidate.dossier.save()
    if (from_status, to_status) in ALLOWED:
        services.transition(candidate=candidate, to_status=to_status, by=staff_a, reason="Motif")
        candidate.refresh_from_db()
        assert candidate.status == to_status
        change = candidate.status_changes.get()
        assert (change.from_status, change.to_status, change.by, change.reason) == (
            from_status,
            to_status,
            staff_a,
            "Motif",
        )
        assert AuditEvent.objects.filter(
            action="candidate.status_changed", target_id=str(candidate.pk)
        ).exists()
    else:
        with pytest.raises(BusinessRuleError, match="Changement de statut impossible"):
            services.transition(candidate=candidate, to_status=to_status, by=staff_a, reason="Motif")
        candidate.refresh_from_db()
        assert candidate.status == from_status
        assert not candidate.status_changes.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (S.REGISTERED, S.WITHDRAWN),
        (S.IN_EVALUATION, S.WITHDRAWN),
        (S.AWAITING_DELIBERATION, S.IN_EVALUATION),
        (S.DOSSIER_VALIDATED, S.REGISTERED),
    ],
)
def test_some_transitions_need_a_reason(staff_a, centre_a, from_status, to_status):
    candidate = CandidateFactory(centre=centre_a, status=from_status)
    with pytest.raises(BusinessRuleError, match="motif"):
        services.transition(candidate=candidate, to_status=to_status, by=staff_a, reason="  ")


@pytest.mark.django_db
def test_dossier_validated_status_needs_a_validated_dossier(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    with pytest.raises(BusinessRuleError, match="dossier"):
        services.transition(candidate=candidate, to_status=S.DOSSIER_VALIDATED, by=staff_a)


@pytest.mark.django_db
def test_named_transitions_follow_the_lifecycle(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, status=S.DOSSIER_VALIDATED)
    services.start_evaluation(candidate=candidate, by=staff_a)
    services.mark_awaiting_deliberation(candidate=candidate, by=staff_a)
    services.reopen_evaluation(candidate=candidate, by=staff_a, reason="Fiche rouverte")
    services.mark_awaiting_deliberation(candidate=candidate, by=staff_a)
    services.mark_deliberated(candidate=candidate, by=None)
    assert list(candidate.status_changes.values_list("to_status", flat=True)) == [
        S.IN_EVALUATION,
        S.AWAITING_DELIBERATION,
        S.IN_EVALUATION,
        S.AWAITING_DELIBERATION,
        S.DELIBERATED,
    ]
    with pytest.raises(BusinessRuleError):
        services.withdraw_candidate(candidate=candidate, by=staff_a, reason="trop tard")


@pytest.mark.django_db
def test_staff_of_another_centre_cannot_change_status(staff_b, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    with pytest.raises(BusinessRuleError, match="centre"):
        services.withdraw_candidate(candidate=candidate, by=staff_b, reason="x")
    candidate.refresh_from_db()
    assert candidate.status == S.REGISTERED


# --- dossier --------------------------------------------------------------------------------


def item_values(dossier, modalities, **extra):
    return {item.pk: {"modalities": modalities, **extra} for item in dossier.items.all()}


@pytest.mark.django_db
def test_dossier_update_validate_then_frozen(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, with_dossier__modalities=[])
    dossier = candidate.dossier
    with pytest.raises(BusinessRuleError, match="au moins une modalité"):
        services.validate_dossier(dossier=dossier, by=staff_a)
    services.update_dossier(
        dossier=dossier,
        by=staff_a,
        report_due_date=None,
        company_opinion_applies=True,
        items=item_values(dossier, [ModalityCode.PROJECT_PRESENTATION, ModalityCode.WORKPLACE_OBSERVATION]),
    )
    with pytest.raises(BusinessRuleError, match="date limite"):
        services.validate_dossier(dossier=dossier, by=staff_a)
    due = timezone.localdate() + datetime.timedelta(days=20)
    services.update_dossier(
        dossier=dossier,
        by=staff_a,
        report_due_date=due,
        company_opinion_applies=True,
        items=item_values(dossier, [ModalityCode.PROJECT_PRESENTATION]),
    )
    services.validate_dossier(dossier=dossier, by=staff_a)
    dossier.refresh_from_db()
    candidate.refresh_from_db()
    assert dossier.is_frozen and dossier.validated_by == staff_a
    assert candidate.status == S.DOSSIER_VALIDATED
    assert candidate.status_changes.get().to_status == S.DOSSIER_VALIDATED
    with pytest.raises(BusinessRuleError, match="ne peut plus être modifié"):
        services.update_dossier(
            dossier=dossier,
            by=staff_a,
            report_due_date=due,
            company_opinion_applies=False,
            items=item_values(dossier, [ModalityCode.WORKPLACE_OBSERVATION]),
        )
    assert dossier.items.first().modalities == [ModalityCode.PROJECT_PRESENTATION]
    with pytest.raises(BusinessRuleError, match="ne peut plus être modifié"):
        services.validate_dossier(dossier=dossier, by=staff_a)


@pytest.mark.django_db
def test_dossier_refuses_modalities_the_referential_does_not_allow(staff_a, centre_a):
    certification = CertificationFactory()
    certification.modalities.filter(code=ModalityCode.PROJECT_PRESENTATION).delete()
    candidate = CandidateFactory(centre=centre_a, certification=certification)
    dossier = candidate.dossier
    for codes in ([ModalityCode.PROJECT_PRESENTATION], ["written_exam"]):
        with pytest.raises(BusinessRuleError, match="non prévue"):
            services.update_dossier(
                dossier=dossier,
                by=staff_a,
                report_due_date=None,
                company_opinion_applies=True,
                items=item_values(dossier, codes),
            )
    assert dossier.items.first().modalities == [ModalityCode.WORKPLACE_OBSERVATION]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("factory_kwargs", "applies", "error"),
    [
        ({"vae": True}, True, "jamais en VAE"),
        ({"job_seeker": True}, True, "tuteur"),
        ({}, True, None),
        ({"vae": True}, False, None),
        ({"job_seeker": True}, False, None),
        # issue 22: an employee with a company and a tutor cannot have the opinion waived
        ({}, False, "requis pour ce candidat"),
    ],
)
def test_company_opinion_never_for_vae(staff_a, centre_a, factory_kwargs, applies, error):
    candidate = CandidateFactory(centre=centre_a, **factory_kwargs)
    dossier = candidate.dossier
    kwargs = {
        "dossier": dossier,
        "by": staff_a,
        "report_due_date": None,
        "company_opinion_applies": applies,
        "items": item_values(dossier, [ModalityCode.WORKPLACE_OBSERVATION]),
    }
    before = dossier.company_opinion_applies
    if error:
        with pytest.raises(BusinessRuleError, match=error):
            services.update_dossier(**kwargs)
        dossier.refresh_from_db()
        assert dossier.company_opinion_applies is before
    else:
        services.update_dossier(**kwargs)
        dossier.refresh_from_db()
        assert dossier.company_opinion_applies is applies


@pytest.mark.django_db
def test_a_competency_cannot_be_typed_already_acquired_in_the_dossier(staff_a, centre_a):
    """Issue 22, point 1: « déjà acquise » + a date typed by staff for a new registration let the
    CQPM be awarded on one evaluated competency. Only a deliberation makes a competency acquired."""
    candidate = CandidateFactory(centre=centre_a, with_dossier__modalities=[])
    dossier = candidate.dossier
    items = list(dossier.items.all())
    with pytest.raises(BusinessRuleError, match="acquise que par une délibération"):
        services.update_dossier(
            dossier=dossier,
            by=staff_a,
            report_due_date=None,
            company_opinion_applies=True,
            items={
                items[0].pk: {
                    "modalities": [],
                    "already_acquired": True,
                    "acquired_until": datetime.date(2099, 1, 1),
                },
                items[1].pk: {"modalities": [ModalityCode.WORKPLACE_QUESTIONING]},
                items[2].pk: {"modalities": [ModalityCode.WORKPLACE_OBSERVATION]},
            },
        )
    assert not dossier.items.filter(already_acquired=True).exists()
    assert not dossier.items.exclude(modalities=[]).exists()  # nothing saved


@pytest.mark.django_db
def test_pathway_cannot_change_once_dossier_frozen(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, status=S.DOSSIER_VALIDATED)
    with pytest.raises(BusinessRuleError, match="validé"):
        services.update_candidate(
            candidate=candidate, by=staff_a, pathway=Pathway.VAE, company=None, tutor=None
        )
    services.update_candidate(candidate=candidate, by=staff_a, phone="07 11 22 33 44")
    candidate.refresh_from_db()
    assert candidate.pathway == Pathway.EMPLOYEE and candidate.phone == "07 11 22 33 44"


@pytest.mark.django_db
def test_switching_to_vae_turns_the_company_opinion_off(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    assert candidate.dossier.company_opinion_applies
    services.update_candidate(candidate=candidate, by=staff_a, pathway=Pathway.VAE)
    candidate.dossier.refresh_from_db()
    assert candidate.dossier.company_opinion_applies is False


# --- reopening a validated dossier ------------------------------------------------------------


def validated_candidate(staff, centre):
    candidate = CandidateFactory(centre=centre)
    dossier = candidate.dossier
    services.update_dossier(
        dossier=dossier,
        by=staff,
        report_due_date=None,
        company_opinion_applies=True,
        items=item_values(dossier, [ModalityCode.WORKPLACE_OBSERVATION]),
    )
    services.validate_dossier(dossier=dossier, by=staff)
    candidate.refresh_from_db()
    return candidate


@pytest.mark.django_db
def test_a_validated_dossier_reopens_for_correction_then_validates_again(staff_a, centre_a):
    candidate = validated_candidate(staff_a, centre_a)
    dossier = candidate.dossier
    with pytest.raises(BusinessRuleError, match="motif"):
        services.reopen_dossier(dossier=dossier, by=staff_a, reason="  ")
    services.reopen_dossier(dossier=dossier, by=staff_a, reason="Modalité erronée (observation → projet)")
    dossier.refresh_from_db()
    candidate.refresh_from_db()
    assert not dossier.is_frozen and dossier.validated_by is None
    assert candidate.status == S.REGISTERED
    change = candidate.status_changes.order_by("-pk").first()
    assert (change.from_status, change.to_status, change.by, change.reason) == (
        S.DOSSIER_VALIDATED,
        S.REGISTERED,
        staff_a,
        "Modalité erronée (observation → projet)",
    )
    event = AuditEvent.objects.get(action="dossier.reopened")
    assert event.actor == staff_a and event.target_id == str(candidate.pk) and "Modalité" not in event.message
    # the correction the reopening was for, then a new validation
    due = timezone.localdate() + datetime.timedelta(days=30)
    services.update_dossier(
        dossier=dossier,
        by=staff_a,
        report_due_date=due,
        company_opinion_applies=True,
        items=item_values(dossier, [ModalityCode.PROJECT_PRESENTATION]),
    )
    services.validate_dossier(dossier=dossier, by=staff_a)
    candidate.refresh_from_db()
    assert candidate.status == S.DOSSIER_VALIDATED
    assert {m for item in dossier.items.all() for m in item.modalities} == {ModalityCode.PROJECT_PRESENTATION}


@pytest.mark.django_db
def test_a_dossier_does_not_reopen_once_evaluation_or_the_company_opinion_started(staff_a, centre_a):
    from evaluations.models import CompanyOpinion

    convened = validated_candidate(staff_a, centre_a)
    services.start_evaluation(candidate=convened, by=staff_a)
    with pytest.raises(BusinessRuleError, match="convoqué"):
        services.reopen_dossier(dossier=convened.dossier, by=staff_a, reason="Erreur")
    invited = validated_candidate(staff_a, centre_a)
    competency = invited.dossier.items.first().competency
    CompanyOpinion.objects.create(candidate=invited, competency=competency, tutor=invited.tutor)
    with pytest.raises(BusinessRuleError, match="avis de l'entreprise a déjà été demandé"):
        services.reopen_dossier(dossier=invited.dossier, by=staff_a, reason="Erreur")
    draft = CandidateFactory(centre=centre_a)
    with pytest.raises(BusinessRuleError, match="n'est pas validé"):
        services.reopen_dossier(dossier=draft.dossier, by=staff_a, reason="Erreur")
    for candidate in (convened, invited):
        candidate.dossier.refresh_from_db()
        assert candidate.dossier.is_frozen


@pytest.mark.django_db
def test_only_the_candidates_centre_reopens_its_dossier(staff_a, staff_b, centre_a):
    candidate = validated_candidate(staff_a, centre_a)
    with pytest.raises(BusinessRuleError, match="centre"):
        services.reopen_dossier(dossier=candidate.dossier, by=staff_b, reason="Erreur")
    candidate.dossier.refresh_from_db()
    assert candidate.dossier.is_frozen


@pytest.mark.django_db
def test_the_status_form_cannot_go_back_to_registered_around_the_dossier(staff_a, centre_a):
    """« Inscrit » is reached by reopening the dossier only: the generic status change refuses it while
    the dossier is validated, and the status form does not offer it."""
    from candidates.forms import TransitionForm

    candidate = validated_candidate(staff_a, centre_a)
    with pytest.raises(BusinessRuleError, match="rouvrez le dossier"):
        services.transition(candidate=candidate, to_status=S.REGISTERED, by=staff_a, reason="Erreur")
    choices = [value for value, _label in TransitionForm(candidate=candidate).fields["to_status"].choices]
    assert S.REGISTERED not in choices and S.WITHDRAWN in choices


# Issue 16: « Changer le statut » by hand is only the withdrawal, with a reason; every other status
# follows the process and the refusal names the step that reaches it.
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_status", "to_status", "message"),
    [
        (
            S.IN_EVALUATION,
            S.AWAITING_DELIBERATION,
            "« En attente de délibération » est atteint quand la commission",
        ),
        (S.DOSSIER_VALIDATED, S.IN_EVALUATION, "« En évaluation » est atteint en convoquant le candidat"),
        (S.AWAITING_DELIBERATION, S.DELIBERATED, "« Délibéré » est atteint à la clôture de la délibération"),
        (S.REGISTERED, S.DOSSIER_VALIDATED, "« Dossier validé » est atteint en validant le dossier"),
        (S.DOSSIER_VALIDATED, S.REGISTERED, "il revient en rouvrant le dossier d'évaluation"),
    ],
)
def test_status_by_hand_refuses_the_process_steps(staff_a, centre_a, from_status, to_status, message):
    candidate = CandidateFactory(centre=centre_a, status=from_status)
    with pytest.raises(BusinessRuleError, match=message) as refusal:
        services.change_status_by_hand(candidate=candidate, to_status=to_status, by=staff_a, reason="Motif")
    assert refusal.value.code == "process_step"
    candidate.refresh_from_db()
    assert candidate.status == from_status and not candidate.status_changes.exists()


@pytest.mark.django_db
def test_status_by_hand_withdraws_with_a_reason_only(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, status=S.IN_EVALUATION)
    assert services.manual_transitions(candidate) == [S.WITHDRAWN]
    with pytest.raises(BusinessRuleError, match="Indiquez le motif de ce changement de statut."):
        services.change_status_by_hand(candidate=candidate, to_status=S.WITHDRAWN, by=staff_a, reason="  ")
    services.change_status_by_hand(candidate=candidate, to_status=S.WITHDRAWN, by=staff_a, reason="Démission")
    candidate.refresh_from_db()
    assert candidate.status == S.WITHDRAWN
    assert services.manual_transitions(candidate) == []
    with pytest.raises(BusinessRuleError, match="Changement de statut impossible"):
        services.change_status_by_hand(
            candidate=candidate, to_status=S.WITHDRAWN, by=staff_a, reason="Encore"
        )
