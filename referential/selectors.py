"""Read side of the referential: every view, export and command gets its certifications here."""

from django.db.models import Count, Prefetch

from core.permissions import is_centre_staff

from .models import Block, Certification, CertificationStatus, Competency


def with_full_content(queryset):
    """Prefetch a certification's whole tree in a constant number of queries (8)."""
    competencies = Competency.objects.prefetch_related("conditions", "criteria", "expected_results")
    blocks = Block.objects.prefetch_related("knowledge", Prefetch("competencies", queryset=competencies))
    return queryset.prefetch_related(Prefetch("blocks", queryset=blocks), "modalities")


def certifications_visible_to(user):
    """Centre staff see every version, drafts included; evaluators and jury members see published and
    archived versions (candidates stay bound to the version of their registration). Others: nothing."""
    queryset = Certification.objects.all()
    if is_centre_staff(user):
        return queryset
    if user.is_authenticated and (user.is_evaluator or user.is_jury_member):
        return queryset.exclude(status=CertificationStatus.DRAFT)
    return queryset.none()


def certification_list(user):
    """The list page: versions visible to `user` with their block and competency counts."""
    return certifications_visible_to(user).annotate(
        block_count=Count("blocks", distinct=True),
        competency_count=Count("competencies", distinct=True),
    )


def certification_detail_queryset(user=None):
    """The certifications `user` may see (all when None), everything of each prefetched."""
    queryset = Certification.objects.all() if user is None else certifications_visible_to(user)
    return with_full_content(queryset.select_related("derived_from"))


def certification_detail(pk, *, user=None):
    """One certification with everything prefetched; scoped to `user` when given.

    Raises Certification.DoesNotExist when it does not exist or is outside the user's scope.
    """
    return certification_detail_queryset(user).get(pk=pk)


def published_certifications():
    """The versions in force (one per code), e.g. for registering a candidate."""
    return Certification.objects.published().order_by("code")


def drafts_of(code):
    return Certification.objects.filter(code=code, status=CertificationStatus.DRAFT)


def other_versions(certification):
    return (
        Certification.objects.filter(code=certification.code)
        .exclude(pk=certification.pk)
        .order_by("-version")
    )
