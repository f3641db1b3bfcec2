"""« Personnes »: accounts of centre staff, evaluators, jury members and tutors, their invitations and
their memberships. The only place where these accounts change (plus the apps' own services, called
from here for commission and jury memberships and tutor records). Plain functions, keyword arguments,
one transaction each; a broken rule raises BusinessRuleError with a French message; every change is
audited with ids only (never a name or an address).

Rules (tested in tests/people/test_services.py):
- only active centre staff act; a staff member acts for his centres only; superusers for every centre;
- nobody grants rights above his own: no superuser and no Django-admin flag is ever set here, a staff
  member only gives centres he works for, and only manages accounts whose every centre is his
  (`people.permissions.may_manage_person`); nobody deactivates his own account;
- an e-mail address identifies one account (case-insensitive): a new or changed address already used
  by another account is refused (the login page accepts the address instead of the login);
- an account is created without a password; the person chooses it through the invitation link
  (people.tokens: single use, expiring), which every new invitation replaces.
"""

import re
import unicodedata

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from candidates import services as candidate_services
from candidates.models import Candidate
from core.exceptions import BusinessRuleError
from core.models import Role, User
from core.services import audit, queue_email, safe_delay
from deliberations import services as deliberation_services
from evaluations import services as evaluation_services

from .permissions import may_deactivate_person, may_manage_person
from .tasks import redact_invitation_email
from .tokens import account_invitation_token, invitation_days

INVITATION_EMAIL_KIND = "people.invitation"
MANAGED_ROLES = (Role.STAFF, Role.EVALUATOR, Role.JURY, Role.TUTOR)


# --- checks ---------------------------------------------------------------------------------


def _check_actor(actor):
    if actor is None or not actor.is_authenticated or not actor.is_centre_staff:
        raise BusinessRuleError(_("Seul le personnel d'un centre gère les comptes."), code="forbidden")


def _check_may_manage(actor, person):
    _check_actor(actor)
    if not may_manage_person(actor, person):
        if person.is_superuser:
            message = _("Le compte d'un administrateur de la plateforme ne se modifie pas depuis un centre.")
        else:
            message = _(
                "Ce compte travaille aussi pour un centre qui n'est pas le vôtre : "
                "seul un administrateur de la plateforme peut le modifier."
            )
        raise BusinessRuleError(message, code="scope")


def _check_centres(actor, centres):
    centres = list(centres or [])
    if not centres:
        raise BusinessRuleError(_("Choisissez au moins un centre de certification."), code="centres")
    foreign = [c for c in centres if c.pk not in actor.centre_ids()]
    if foreign:
        raise BusinessRuleError(
            _("Vous ne pouvez rattacher un compte qu'à vos propres centres de certification."), code="centres"
        )
    return centres


def _clean_email(email, *, exclude=None):
    email = (email or "").strip()
    if not email:
        raise BusinessRuleError(
            _("Indiquez l'adresse e-mail de la personne : l'invitation y est envoyée."), code="email"
        )
    try:
        validate_email(email)
    except ValidationError as exc:
        raise BusinessRuleError(_("Cette adresse e-mail n'est pas valide."), code="email") from exc
    others = User.objects.filter(email__iexact=email)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise BusinessRuleError(
            _(
                "Un autre compte utilise déjà l'adresse %(email)s (les majuscules ne comptent pas) : "
                "une adresse ne sert qu'à un compte, sinon la connexion par adresse serait ambiguë. "
                "Retrouvez ce compte dans la liste ou indiquez une autre adresse."
            )
            % {"email": email},
            code="email_taken",
        )
    return email


def _required(value, message, code):
    value = (value or "").strip()
    if not value:
        raise BusinessRuleError(message, code=code)
    return value


def _ascii_slug(value):
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", value).strip("-")


def suggest_username(first_name, last_name):
    """« prenom.nom » without accents, then « prenom.nom-2 »… (the person may also log in with his address)."""
    base = ".".join(part for part in (_ascii_slug(first_name), _ascii_slug(last_name)) if part) or "compte"
    base = base[:140]
    username, suffix = base, 1
    while User.objects.filter(username__iexact=username).exists():
        suffix += 1
        username = f"{base}-{suffix}"
    return username


def _clean_username(username, first_name, last_name):
    username = (username or "").strip()
    if not username:
        return suggest_username(first_name, last_name)
    if "@" in username:
        raise BusinessRuleError(
            _("L'identifiant ne contient pas d'arobase (@) : l'adresse e-mail sert déjà à se connecter."),
            code="username",
        )
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise BusinessRuleError(
            _("L'identifiant ne peut contenir que des lettres, des chiffres et les caractères . + - _"),
            code="username",
        ) from exc
    if len(username) > 150:
        raise BusinessRuleError(_("L'identifiant est trop long (150 caractères au plus)."), code="username")
    if User.objects.filter(username__iexact=username).exists():
        raise BusinessRuleError(
            _("L'identifiant « %(username)s » est déjà pris : choisissez-en un autre.")
            % {"username": username},
            code="username_taken",
        )
    return username


def audit_centre(actor, person):
    """The centre an event about this account is filed under: one the actor and the person share."""
    centres = person.centres.order_by("pk")
    if not actor.is_superuser:
        centres = centres.filter(pk__in=actor.centre_ids())
    return centres.first()


# --- accounts -------------------------------------------------------------------------------


@transaction.atomic
def create_person(
    *,
    by,
    role,
    first_name,
    last_name,
    email,
    centres=(),
    username="",
    phone="",
    tutor=None,
    company=None,
    function="",
    invite=True,
):
    """A new account of `role`, without password; `invite` sends the set-password link.

    Tutors: the account is linked to a tutor record — `tutor` (an existing record without account of
    the actor's centres) or a new record created in `company` — and works for that company's centre.
    """
    _check_actor(by)
    if role not in MANAGED_ROLES:
        raise BusinessRuleError(_("Choisissez le rôle de la personne."), code="role")
    if role == Role.TUTOR:
        if tutor is not None:
            if tutor.user_id is not None:
                raise BusinessRuleError(_("Cette fiche tuteur a déjà un compte."), code="tutor_account")
            company = tutor.company
            first_name = first_name or tutor.first_name
            last_name = last_name or tutor.last_name
            email = email or tutor.email
        if company is None:
            raise BusinessRuleError(
                _("Choisissez l'entreprise du tuteur (ou sa fiche tuteur existante)."), code="company"
            )
        centres = _check_centres(by, [company.centre])
    else:
        centres = _check_centres(by, centres)
    first_name = _required(first_name, _("Indiquez le prénom."), "first_name")
    last_name = _required(last_name, _("Indiquez le nom."), "last_name")
    email = _clean_email(email)
    username = _clean_username(username, first_name, last_name)
    person = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=(phone or "").strip(),
        role=role,
        is_active=True,
        is_staff=False,  # the Django admin is for superusers only
        is_superuser=False,
    )
    person.set_unusable_password()
    person.save()
    person.centres.set(centres)
    if role == Role.TUTOR:
        if tutor is None:
            tutor = candidate_services.create_tutor(
                company=company,
                by=by,
                first_name=first_name,
                last_name=last_name,
                email=email,
                function=function,
            )
        tutor.user = person
        tutor.save(update_fields=["user"])
    audit(
        actor=by,
        action="people.account_created",
        target=person,
        centre=centres[0],
        message=f"compte {person.pk} ({role})",
        role=role,
        centre_ids=sorted(c.pk for c in centres),
        tutor_id=tutor.pk if tutor is not None else None,
    )
    if invite:
        send_invitation(by=by, person=person)
    return person


@transaction.atomic
def update_person(*, by, person, first_name, last_name, email, phone="", centres=None):
    """Identity and centres (the role never changes: create another account for another role)."""
    _check_may_manage(by, person)
    person = User.objects.select_for_update().get(pk=person.pk)
    changes = {
        "first_name": _required(first_name, _("Indiquez le prénom."), "first_name"),
        "last_name": _required(last_name, _("Indiquez le nom."), "last_name"),
        "email": _clean_email(email, exclude=person),
        "phone": (phone or "").strip(),
    }
    changed = sorted(field for field, value in changes.items() if getattr(person, field) != value)
    for field, value in changes.items():
        setattr(person, field, value)
    person.save()
    tutor = getattr(person, "tutor_profile", None) if person.role == Role.TUTOR else None
    if tutor is not None and {"first_name", "last_name", "email"} & set(changed):
        # The tutor record is the same person: the company opinion's invitations go to its address.
        candidate_services.update_tutor(
            tutor=tutor, by=by, first_name=person.first_name, last_name=person.last_name, email=person.email
        )
    centres_changed = False
    if centres is not None and person.role != Role.TUTOR:  # a tutor works for his company's centre
        centres = _check_centres(by, centres) if not by.is_superuser else list(centres)
        if not centres:
            raise BusinessRuleError(_("Choisissez au moins un centre de certification."), code="centres")
        before = set(person.centres.values_list("pk", flat=True))
        after = {c.pk for c in centres}
        if before != after:
            if person.pk == by.pk and not by.is_superuser and not after >= before:
                raise BusinessRuleError(
                    _("Vous ne pouvez pas vous retirer vous-même d'un de vos centres."), code="self"
                )
            person.centres.set(centres)
            centres_changed = True
            changed.append("centres")
    if changed:
        audit(
            actor=by,
            action="people.account_updated",
            target=person,
            centre=audit_centre(by, person),
            message=f"compte {person.pk} modifié",
            fields=changed,
            **({"centre_ids": sorted(c.pk for c in centres)} if centres_changed else {}),
        )
    return person


@transaction.atomic
def deactivate_person(*, by, person):
    """The account can no longer log in (its sessions end at their next request); nothing is deleted:
    its scores, decisions and journal entries stay attributed to it."""
    _check_may_manage(by, person)
    if not may_deactivate_person(by, person):
        raise BusinessRuleError(_("Vous ne pouvez pas désactiver votre propre compte."), code="self")
    if not person.is_active:
        raise BusinessRuleError(_("Ce compte est déjà désactivé."), code="inactive")
    person.is_active = False
    person.save(update_fields=["is_active"])
    audit(
        actor=by,
        action="people.account_deactivated",
        target=person,
        centre=audit_centre(by, person),
        message=f"compte {person.pk} désactivé",
    )
    return person


@transaction.atomic
def reactivate_person(*, by, person):
    _check_may_manage(by, person)
    if person.is_active:
        raise BusinessRuleError(_("Ce compte est déjà actif."), code="active")
    person.is_active = True
    person.save(update_fields=["is_active"])
    audit(
        actor=by,
        action="people.account_reactivated",
        target=person,
        centre=audit_centre(by, person),
        message=f"compte {person.pk} réactivé",
    )
    return person


# --- the candidate's own account (issue 23) ------------------------------------------------


@transaction.atomic
def create_candidate_account(*, by, candidate):
    """The candidate's own account, created when staff validate his dossier (signal
    `candidates.signals.dossier_validated`), then invited through the same single-use, expiring
    set-password link as every other account. He logs in with his e-mail address.

    Returns the account, or None when there is nothing to do or it cannot be done without losing the
    validation: the candidate already has an account, has no address, or his address is used by
    another account (audited, so staff find why; the dossier validation itself stands)."""

    candidate = Candidate.objects.select_for_update().select_related("centre").get(pk=candidate.pk)
    _check_actor(by)
    _check_centres(by, [candidate.centre])
    if candidate.user_id is not None or candidate.is_anonymised:
        return None
    reason = ""
    email = (candidate.email or "").strip()
    if not email:
        reason = "no_email"
    else:
        try:
            email = _clean_email(email)
        except BusinessRuleError as exc:
            reason = exc.code or "email"
    if reason:
        audit(
            actor=by,
            action="people.candidate_account_skipped",
            target=candidate,
            centre=candidate.centre,
            message=f"compte candidat non créé pour {candidate.reference} ({reason})",
            reason=reason,
        )
        return None
    first_name = (candidate.first_names or "").strip()
    last_name = (candidate.usage_name or candidate.birth_name or "").strip()
    person = User(
        username=suggest_username(first_name, last_name),
        first_name=first_name[:150],
        last_name=last_name[:150],
        email=email,
        role=Role.CANDIDATE,
        is_active=True,
        is_staff=False,
        is_superuser=False,
    )
    person.set_unusable_password()
    person.save()
    person.centres.set([candidate.centre])
    candidate.user = person
    candidate.save(update_fields=["user"])
    audit(
        actor=by,
        action="people.account_created",
        target=person,
        centre=candidate.centre,
        message=f"compte {person.pk} ({Role.CANDIDATE}) du candidat {candidate.reference}",
        role=Role.CANDIDATE,
        candidate_id=candidate.pk,
        centre_ids=[candidate.centre_id],
    )
    send_invitation(by=by, person=person)
    return person


def on_dossier_validated(sender, candidate, by, **kwargs):
    """`candidates.signals.dossier_validated`: the candidate gets his account and invitation."""
    create_candidate_account(by=by, candidate=candidate)


# --- invitations ----------------------------------------------------------------------------


def invitation_url(person):
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = account_invitation_token.make_token(person)
    return f"{settings.SITE_URL}{reverse('people:invitation', args=[uid, token])}"


def invitation_pending(person):
    """The person has not chosen a password yet (an invitation is waiting for him)."""
    return person.is_active and not person.has_usable_password()


@transaction.atomic
def send_invitation(*, by, person):
    """E-mail the set-password link (valid ACCOUNT_INVITATION_DAYS days, once). Sending a new one makes
    the previous links unusable. Only for an active account that has no password yet: a person who
    has one uses « Mot de passe oublié » (the invitation never replaces a chosen password)."""
    _check_may_manage(by, person)
    given, person = person, User.objects.select_for_update().get(pk=person.pk)
    if not person.is_active:
        raise BusinessRuleError(
            _("Ce compte est désactivé : réactivez-le avant de l'inviter."), code="inactive"
        )
    if person.has_usable_password():
        raise BusinessRuleError(
            _(
                "Cette personne a déjà choisi son mot de passe : elle se connecte avec son identifiant "
                "ou son adresse e-mail, et peut utiliser « Mot de passe oublié » si besoin."
            ),
            code="has_password",
        )
    person.set_unusable_password()  # a new random marker: the links sent before stop working
    person.save(update_fields=["password"])
    given.password = person.password  # the caller's instance stays current
    centre = audit_centre(by, person)
    notification = queue_email(
        to_email=person.email,
        subject=_("Votre compte sur la plateforme de certification CQPM"),
        template="people_invitation",
        context={
            "recipient_name": person.get_full_name(),
            "centre_name": centre.name if centre else "",
            "login": person.username,
            "email": person.email,
            "role_label": Role(person.role).label,
            "days": invitation_days(),
            "action_url": invitation_url(person),
            "action_label": _("Choisir mon mot de passe"),
            "invited_by": by.get_full_name() or by.username,
        },
        recipient=person,
        kind=INVITATION_EMAIL_KIND,
    )

    transaction.on_commit(lambda: safe_delay(redact_invitation_email, notification.pk))
    audit(
        actor=by,
        action="people.invitation_sent",
        target=person,
        centre=centre,
        message=f"invitation envoyée au compte {person.pk}",
        notification_id=notification.pk,
    )
    return notification


@transaction.atomic
def accept_invitation(*, person, token, password):
    """The invited person chooses his password through the link. Returns the account.

    Refused when the link is no longer valid (used, replaced, expired, address changed) or the account
    already has a password or is deactivated."""
    person = User.objects.select_for_update().get(pk=person.pk)
    if not invitation_link_valid(person, token):
        raise BusinessRuleError(
            _(
                "Ce lien d'invitation n'est plus valide. Demandez un nouveau lien à votre centre de certification."
            ),
            code="invalid_link",
        )
    try:
        password_validation.validate_password(password, user=person)
    except ValidationError as exc:
        raise BusinessRuleError(" ".join(exc.messages), code="password") from exc
    person.set_password(password)
    person.save(update_fields=["password"])
    audit(
        actor=person,
        action="people.invitation_used",
        target=person,
        centre=person.centres.order_by("pk").first(),
        message=f"mot de passe choisi par le compte {person.pk}",
    )
    return person


def invitation_link_valid(person, token):
    return bool(
        person is not None
        and person.is_active
        and not person.has_usable_password()
        and account_invitation_token.check_token(person, token)
    )


# --- memberships ----------------------------------------------------------------------------


def _check_membership_scope(actor, centre_id):
    _check_actor(actor)
    if centre_id not in actor.centre_ids():
        raise BusinessRuleError(_("Vous n'intervenez pas pour ce centre de certification."), code="centre")


@transaction.atomic
def add_commission_membership(*, by, person, commission, qualification, college="", is_president=False):
    """The evaluator sits on a commission of the actor's centres (evaluations.services.add_member
    checks the role, the centre, the qualification and the single president)."""
    _check_membership_scope(by, commission.centre_id)
    return evaluation_services.add_member(
        commission=commission,
        user=person,
        qualification=qualification,
        by=by,
        college=college,
        is_president=is_president,
    )


@transaction.atomic
def set_commission_president(*, by, membership):
    _check_membership_scope(by, membership.commission.centre_id)
    return evaluation_services.set_president(member=membership, by=by)


@transaction.atomic
def remove_commission_membership(*, by, membership):
    _check_membership_scope(by, membership.commission.centre_id)
    return evaluation_services.remove_member(member=membership, by=by)


@transaction.atomic
def add_jury_seat(*, by, person, jury, college, union="", is_president=False):
    """The jury member sits on a jury of the actor's centres, under his account's name and address."""
    _check_membership_scope(by, jury.centre_id)
    if not person.is_jury_member:
        raise BusinessRuleError(_("Seul un compte « membre de jury » actif siège dans un jury."), code="role")
    return deliberation_services.add_jury_member(
        actor=by,
        jury=jury,
        full_name=person.get_full_name() or person.username,
        college=college,
        union=union,
        is_president=is_president,
        user=person,
        email=person.email,
    )


@transaction.atomic
def remove_jury_seat(*, by, seat):
    _check_membership_scope(by, seat.jury.centre_id)
    return deliberation_services.remove_jury_member(actor=by, member=seat)
