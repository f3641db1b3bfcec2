"""Which accounts a user may see in « Personnes »: THE queryset of every page of the area."""

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Exists, OuterRef, Q

from candidates.models import Company, Tutor
from core.models import CertificationCentre, Role, User
from deliberations.models import Jury, JuryMember
from evaluations.models import Commission, CommissionMember


def people_visible_to(user):
    """Superusers: every account. Centre staff: the accounts working for one of their centres, never a
    superuser's. Other roles: none."""
    users = User.objects.all()
    if not (user.is_authenticated and user.is_centre_staff):
        return users.none()
    if user.is_superuser:
        return users
    centre_links = User.centres.through.objects.filter(
        user_id=OuterRef("pk"), certificationcentre_id__in=user.centre_ids()
    )
    return users.filter(Exists(centre_links), is_superuser=False)


def search_people(queryset, *, query="", role="", status=""):
    """The list's filters: free text on names, login and address; role; active or not, invitation
    pending (no password chosen yet)."""
    query = (query or "").strip()
    for word in query.split()[:5]:
        queryset = queryset.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    if role in Role.values:
        queryset = queryset.filter(role=role)
    if status == "active":
        queryset = queryset.filter(is_active=True)
    elif status == "inactive":
        queryset = queryset.filter(is_active=False)
    elif status == "invited":
        queryset = queryset.filter(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)
    return queryset


def person_centres_outside(actor, person):
    """The ids of the person's centres the actor does not work for (empty for superusers)."""
    if actor.is_superuser:
        return set()
    return set(person.centres.values_list("id", flat=True)) - set(actor.centre_ids())


def commissions_for(actor):
    return Commission.objects.filter(centre_id__in=actor.centre_ids()).select_related("centre")


def juries_for(actor):
    return Jury.objects.filter(centre_id__in=actor.centre_ids()).select_related("centre")


def commission_memberships_in_scope(actor, person):
    """The person's seats on commissions of the actor's centres."""
    return (
        CommissionMember.objects.filter(user=person, commission__centre_id__in=actor.centre_ids())
        .select_related("commission__centre")
        .order_by("commission__name", "pk")
    )


def jury_seats_in_scope(actor, person):
    """The person's seats on juries of the actor's centres."""
    return (
        JuryMember.objects.filter(user=person, jury__centre_id__in=actor.centre_ids())
        .select_related("jury__centre")
        .order_by("jury__name", "pk")
    )


def memberships_of(actor, person):
    """(commission memberships, jury seats) of the person in the actor's centres."""
    return list(commission_memberships_in_scope(actor, person)), list(jury_seats_in_scope(actor, person))


def tutor_records_without_account(actor):
    return (
        Tutor.objects.filter(company__centre_id__in=actor.centre_ids(), user__isnull=True)
        .select_related("company")
        .order_by("last_name", "first_name", "pk")
    )


def companies_for(actor):
    return Company.objects.filter(centre_id__in=actor.centre_ids()).order_by("name", "pk")


def centres_for(actor):
    return CertificationCentre.objects.filter(pk__in=actor.centre_ids()).order_by("name")
