"""Avis de l'entreprise: inviting the tutor (expiring single-use link), his opinions and sign-off.

The invitation link: the token is random (256 bits), sent once by email, stored only as its SHA-256
hash. The first time a tutor without an account opens it, he chooses a password (his tutor account
is created and linked to his tutor record); when he already has an account with a password, the link
logs him in directly. Either way the link is then used up; it also expires after
settings.CQPM["TUTOR_INVITATION_DAYS"]. A link never shows another tutor's candidates: the tutor only
ever sees the candidates whose tutor record is his.
"""

import datetime

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import CandidateStatus
from core.exceptions import BusinessRuleError
from core.models import Notification, Role, User
from core.services import audit, queue_email, safe_delay

from .. import tasks  # a module import: evaluations.tasks imports these services
from ..models import CompanyOpinion, Opinion, TutorInvitation
from ..selectors import scored_competencies
from ..tokens import hash_token, new_token
from .common import check_staff_of, with_history_user

INVITABLE_STATUSES = (CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION)
INVITATION_EMAIL_KIND = "evaluations.tutor_invitation"


def _refuse_vae(candidate):
    if candidate.is_vae:
        raise BusinessRuleError(
            _(
                "L'avis de l'entreprise ne s'applique pas aux candidats en VAE (validation des acquis de l'expérience)."
            ),
            code="vae",
        )


def invitation_days():
    return int(settings.CQPM.get("TUTOR_INVITATION_DAYS", 14))


def invitation_url(token):
    return f"{settings.SITE_URL}{reverse('evaluations:invitation', args=[token])}"


def _issue_invitation(*, tutor, candidate, by):
    """Expire the tutor's unused links for this candidate and create a fresh one. Returns (invitation, token)."""
    now = timezone.now()
    TutorInvitation.objects.filter(
        tutor=tutor, candidate=candidate, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    token = new_token()
    invitation = TutorInvitation.objects.create(
        tutor=tutor,
        candidate=candidate,
        token_hash=hash_token(token),
        expires_at=now + datetime.timedelta(days=invitation_days()),
        created_by=by,
    )
    return invitation, token


def _queue_invitation_email(*, invitation, token, candidate, due_date, template, subject, dedup_key, **extra):
    tutor = invitation.tutor
    notification = queue_email(
        to_email=tutor.email,
        subject=subject,
        template=template,
        context={
            "recipient_name": f"{tutor.first_name} {tutor.last_name}",
            "centre_name": candidate.centre.name,
            "candidate_name": candidate.full_name,
            "certification": candidate.certification,
            "due_date": due_date,
            "expires_at": invitation.expires_at,
            "action_url": invitation_url(token),
            "action_label": _("Donner mon avis"),
            "has_account": tutor.user_id is not None and tutor.user.has_usable_password(),
            # Every e-mail about an account says its login (a first-time tutor gets his at sign-up).
            "login": tutor.user.username if tutor.user_id else "",
            "login_email": tutor.email,
            **extra,
        },
        recipient=tutor.user,
        kind=INVITATION_EMAIL_KIND,
        dedup_key=dedup_key,
    )

    # The outbox must not keep a usable link: once sent, the token is removed from the stored body.
    transaction.on_commit(lambda: safe_delay(tasks.redact_invitation_email, notification.pk))
    return notification


def _prepare_opinions(*, candidate, by, due_date):
    """The checks of an invitation and the (blank) opinions it asks for. Returns (tutor, due_date)."""
    check_staff_of(by, candidate.centre_id)
    _refuse_vae(candidate)
    if candidate.is_anonymised or candidate.status not in INVITABLE_STATUSES:
        raise BusinessRuleError(
            _("L'avis de l'entreprise se demande pour un candidat au dossier validé ou en évaluation."),
            code="status",
        )
    dossier = getattr(candidate, "dossier", None)
    if dossier is None or not dossier.company_opinion_applies:
        raise BusinessRuleError(
            _("Le dossier d'évaluation de ce candidat ne prévoit pas l'avis de l'entreprise."),
            code="not_applicable",
        )
    tutor = candidate.tutor
    if tutor is None or not tutor.email:
        raise BusinessRuleError(
            _("Ce candidat n'a pas de tuteur avec une adresse électronique : complétez sa fiche."),
            code="no_tutor",
        )
    if tutor.user_id and (tutor.user.role != Role.TUTOR or not tutor.user.is_active):
        raise BusinessRuleError(
            _("Le compte lié à ce tuteur n'est pas un compte tuteur actif : contactez l'administrateur."),
            code="account",
        )
    today = timezone.localdate()
    due_date = due_date or today + datetime.timedelta(days=invitation_days())
    if due_date < today:
        raise BusinessRuleError(_("La date limite de l'avis ne peut pas être passée."), code="invalid")
    opinions = {
        o.competency_id: o for o in CompanyOpinion.objects.select_for_update().filter(candidate=candidate)
    }
    if any(o.is_signed for o in opinions.values()):
        raise BusinessRuleError(_("L'avis de l'entreprise a déjà été signé pour ce candidat."), code="signed")
    competencies = list(scored_competencies(candidate))
    if not competencies:
        raise BusinessRuleError(_("Aucune compétence n'est à évaluer pour ce candidat."), code="empty")
    for competency in competencies:
        opinion = opinions.get(competency.pk)
        if opinion is None:
            with_history_user(
                CompanyOpinion(candidate=candidate, competency=competency, tutor=tutor, due_date=due_date), by
            ).save()
        elif opinion.tutor_id != tutor.pk or opinion.due_date != due_date:
            opinion.tutor = tutor
            opinion.due_date = due_date
            with_history_user(opinion, by).save()
    return tutor, due_date


@transaction.atomic
def invite_tutor(*, candidate, by, due_date=None):
    """Staff ask the candidate's tutor for the company opinion: one (blank) opinion per evaluated
    competency, and an email with an expiring single-use link. Refused for VAE candidates."""
    tutor, due_date = _prepare_opinions(candidate=candidate, by=by, due_date=due_date)
    invitation, token = _issue_invitation(tutor=tutor, candidate=candidate, by=by)
    _queue_invitation_email(
        invitation=invitation,
        token=token,
        candidate=candidate,
        due_date=due_date,
        template="evaluations_tutor_invitation",
        subject=_("Avis de l'entreprise sur un candidat au CQPM"),
        dedup_key=f"evaluations:invitation:{invitation.pk}",
    )
    audit(
        actor=by,
        action="evaluations.tutor_invited",
        target=invitation,
        centre=candidate.centre,
        message=f"invitation {invitation.pk} : tuteur {tutor.pk}, candidat {candidate.pk}",
        due_date=due_date.isoformat(),
    )
    return invitation, token


@transaction.atomic
def invitation_link_for_staff(*, candidate, by, due_date=None):
    """Staff who phone the tutor read or copy him his link: the same checks and opinions as
    `invite_tutor`, a fresh link (the previous unused ones stop working: only the hash is stored, a
    link cannot be shown again) and no e-mail. Revealing a token is audited. Returns (invitation, url)."""
    tutor, due_date = _prepare_opinions(candidate=candidate, by=by, due_date=due_date)
    invitation, token = _issue_invitation(tutor=tutor, candidate=candidate, by=by)
    audit(
        actor=by,
        action="evaluations.tutor_invitation_link_shown",
        target=invitation,
        centre=candidate.centre,
        message=f"invitation {invitation.pk} : lien montré au personnel (tuteur {tutor.pk}, candidat {candidate.pk})",
        due_date=due_date.isoformat(),
    )
    return invitation, invitation_url(token)


def check_invitation(token, *, lock=False):
    """The valid invitation of `token`, or BusinessRuleError (unknown, used or expired link)."""
    queryset = TutorInvitation.objects.select_related("tutor__user", "tutor__company", "candidate")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    invitation = queryset.filter(token_hash=hash_token(token or "")).first()
    if invitation is None:
        raise BusinessRuleError(_("Ce lien d'invitation n'est pas valide."), code="invalid_link")
    if invitation.is_used:
        raise BusinessRuleError(
            _(
                "Ce lien d'invitation a déjà été utilisé. Connectez-vous avec votre mot de passe, ou demandez un nouveau lien au centre."
            ),
            code="used_link",
        )
    if invitation.is_expired:
        raise BusinessRuleError(
            _("Ce lien d'invitation a expiré. Demandez un nouveau lien au centre de certification."),
            code="expired_link",
        )
    return invitation


def invitation_needs_password(invitation):
    user = invitation.tutor.user
    return user is None or not user.has_usable_password()


def _new_username(tutor):
    base = f"tuteur-{tutor.pk}"
    username, suffix = base, 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"{base}-{suffix}"
    return username


@transaction.atomic
def accept_invitation(*, token, password=None):
    """Use the link: create the tutor's account (password chosen now) or log him in. Returns the user."""
    invitation = check_invitation(token, lock=True)
    tutor = invitation.tutor
    user = tutor.user
    if user is not None and (user.role != Role.TUTOR or not user.is_active):
        raise BusinessRuleError(
            _("Ce lien ne peut pas ouvrir ce compte : contactez le centre."), code="account"
        )
    if not invitation_needs_password(invitation):
        # A link may create and activate an account, never open one that has a password: the link goes
        # to the address on the tutor's record, which centre staff can change (review finding 2).
        raise BusinessRuleError(
            _("Vous avez déjà un accès à la plateforme : connectez-vous avec votre mot de passe."),
            code="has_password",
        )
    if invitation_needs_password(invitation):
        if not password:
            raise BusinessRuleError(_("Choisissez votre mot de passe."), code="password_required")
        candidate_user = user or User(
            username=_new_username(tutor),
            email=tutor.email,
            first_name=tutor.first_name,
            last_name=tutor.last_name,
            role=Role.TUTOR,
        )
        try:
            password_validation.validate_password(password, user=candidate_user)
        except ValidationError as exc:
            raise BusinessRuleError(" ".join(exc.messages), code="password") from exc
        candidate_user.set_password(password)
        candidate_user.save()
        user = candidate_user
        if tutor.user_id != user.pk:
            tutor.user = user
            tutor.save(update_fields=["user"])
        created = True
    else:
        created = False
    user.centres.add(tutor.company.centre)
    if not TutorInvitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        raise BusinessRuleError(_("Ce lien d'invitation a déjà été utilisé."), code="used_link")
    audit(
        actor=user,
        action="evaluations.invitation_used",
        target=invitation,
        centre=tutor.company.centre,
        message=f"invitation {invitation.pk} utilisée (compte {'créé' if created else 'existant'} {user.pk})",
    )
    return user


def _check_tutor_of(candidate, by):
    if by is None or not by.is_tutor or candidate.tutor_id is None or candidate.tutor.user_id != by.pk:
        raise BusinessRuleError(_("Vous n'êtes pas le tuteur de ce candidat."), code="forbidden")
    _refuse_vae(candidate)


def _open_opinions(candidate):
    opinions = list(
        CompanyOpinion.objects.select_for_update().filter(candidate=candidate).order_by("competency__number")
    )
    if not opinions:
        raise BusinessRuleError(_("Aucun avis n'est demandé pour ce candidat."), code="empty")
    if any(o.is_signed for o in opinions):
        raise BusinessRuleError(_("L'avis a été signé : il ne peut plus être modifié."), code="signed")
    return opinions


@transaction.atomic
def save_opinions(*, candidate, by, values):
    """`values`: {competency_id: (opinion, comment)}; only the tutor of the candidate, before sign-off."""
    _check_tutor_of(candidate, by)
    opinions = {o.competency_id: o for o in _open_opinions(candidate)}
    for competency_id, (value, comment) in values.items():
        opinion = opinions.get(int(competency_id))
        if opinion is None:
            raise BusinessRuleError(_("Cette compétence n'est pas concernée par l'avis."), code="invalid")
        value = value or ""
        comment = (comment or "").strip()
        if value not in ("", *Opinion.values):
            raise BusinessRuleError(_("Avis inconnu."), code="invalid")
        if (opinion.opinion, opinion.comment) == (value, comment):
            continue
        opinion.opinion = value
        opinion.comment = comment
        with_history_user(opinion, by).save()
    return list(opinions.values())


@transaction.atomic
def sign_opinions(*, candidate, by):
    """The tutor signs the company opinion off: every competency must have an opinion; then locked."""
    _check_tutor_of(candidate, by)
    opinions = _open_opinions(candidate)
    missing = [o for o in opinions if not o.opinion]
    if missing:
        raise BusinessRuleError(
            _("Donnez un avis sur chaque compétence avant de signer (%(count)d sans avis).")
            % {"count": len(missing)},
            code="incomplete",
        )
    now = timezone.now()
    for opinion in opinions:
        opinion.signed_at = now
        opinion.signed_by = by
        with_history_user(opinion, by).save()
    audit(
        actor=by,
        action="evaluations.opinion_signed",
        target=candidate,
        centre=candidate.centre,
        message=f"avis de l'entreprise signé (candidat {candidate.pk})",
        opinion_ids=[o.pk for o in opinions],
    )
    return opinions


def send_opinion_reminder(*, candidate, days_left):
    """One reminder to the tutor about unsigned opinions (called by the periodic task). Idempotent."""
    tutor = candidate.tutor
    opinions = list(CompanyOpinion.objects.filter(candidate=candidate, signed_at__isnull=True))
    if tutor is None or not tutor.email or not opinions or candidate.is_vae:
        return None
    due_date = min(o.due_date for o in opinions if o.due_date)
    dedup_key = f"evaluations:opinion-reminder:{candidate.pk}:{due_date.isoformat()}:{days_left}"

    if Notification.objects.filter(dedup_key=dedup_key).exists():
        return None
    user = tutor.user
    if user is not None and user.has_usable_password():
        context_url = f"{settings.SITE_URL}{reverse('evaluations:opinion', args=[candidate.pk])}"
        notification = queue_email(
            to_email=tutor.email,
            subject=_("Rappel : avis de l'entreprise à donner"),
            template="evaluations_opinion_reminder",
            context={
                "recipient_name": f"{tutor.first_name} {tutor.last_name}",
                "centre_name": candidate.centre.name,
                "candidate_name": candidate.full_name,
                "due_date": due_date,
                "days_left": days_left,
                "action_url": context_url,
                "action_label": _("Donner mon avis"),
            },
            recipient=user,
            kind="evaluations.opinion_reminder",
            dedup_key=dedup_key,
        )
    else:
        # He never set a password: the reminder carries a fresh link (the older ones are expired).
        with transaction.atomic():
            invitation, token = _issue_invitation(tutor=tutor, candidate=candidate, by=None)
            notification = _queue_invitation_email(
                invitation=invitation,
                token=token,
                candidate=candidate,
                due_date=due_date,
                template="evaluations_opinion_reminder",
                subject=_("Rappel : avis de l'entreprise à donner"),
                dedup_key=dedup_key,
                days_left=days_left,
            )
    audit(
        action="evaluations.opinion_reminder_sent",
        target=candidate,
        centre=candidate.centre,
        message=f"rappel d'avis (candidat {candidate.pk}, J{-days_left:+d})",
        days_left=days_left,
    )
    return notification


def opinion_requested_reason(candidate):
    """`candidates.services.register_reopen_check`: once the tutor was asked for the company opinion,
    the validated dossier stays closed (his opinions follow its competencies)."""
    if CompanyOpinion.objects.filter(candidate_id=candidate.pk).exists():
        return _(
            "L'avis de l'entreprise a déjà été demandé au tuteur : le dossier ne peut plus être rouvert."
        )
    return ""
