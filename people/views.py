"""« Personnes »: thin views over people.services. Accounts are read through
people.selectors.people_visible_to (outside the user's scope: 404); only centre staff and superusers
use the area (others: 403); the invitation link is public (its token is the credential)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from candidates.models import AccessRequest, Dossier
from candidates.services import (
    export_own_personal_data,
    own_upload_window,
    request_rectification,
    upload_own_document,
)
from core.dates import long_date
from core.exceptions import BusinessRuleError
from core.models import Role
from core.permissions import role_required
from core.views_kit import run_action, submit_form
from deliberations import services as deliberation_services
from deliberations.downloads import download_generated_document
from deliberations.services import appeal_deadline

from . import candidate_space as space
from . import selectors, services
from .forms import (
    CandidateAppealForm,
    CandidateUploadForm,
    CommissionMembershipForm,
    InvitationPasswordForm,
    JurySeatForm,
    PersonCreateForm,
    PersonFilterForm,
    PersonUpdateForm,
    RectificationForm,
)
from .permissions import may_deactivate_person, may_manage_person

STAFF = Role.STAFF
PAGE_SIZE = 50


# The field a refusal of the services is about: the message goes next to it (and into the form's error
# summary), the rest of what was typed stays in the form.
ERROR_FIELDS = {
    "role": "role",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "email_taken": "email",
    "username": "username",
    "username_taken": "username",
    "centres": "centres",
    "company": "company",
    "tutor_account": "tutor",
}


def _form_refusal(request, form, exc):
    field = ERROR_FIELDS.get(exc.code)
    if field in form.fields:
        form.add_error(field, exc.message)
    else:
        messages.error(request, exc.message)


def _person(request, pk):
    return get_object_or_404(selectors.people_visible_to(request.user), pk=pk)


@role_required(STAFF)
@require_GET
def person_list(request):
    form = PersonFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    people = selectors.search_people(
        selectors.people_visible_to(request.user),
        query=data.get("q", ""),
        role=data.get("role", ""),
        status=data.get("status", ""),
    ).prefetch_related("centres")
    page = Paginator(people.order_by("last_name", "first_name", "username"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    filtered = any(data.values())
    return render(
        request,
        "people/list.html",
        {
            "form": form,
            "page": page,
            "people": page.object_list,
            "filtered": filtered,
        },
    )


@role_required(STAFF)
@require_http_methods(["GET", "POST"])
def person_create(request):
    form = PersonCreateForm(request.POST or None, actor=request.user)
    # Not `submit_form`: a refusal goes to the field its code names (`_form_refusal`).
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.create_person(
                by=request.user,
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
                username=data["username"],
                centres=list(data["centres"] or []),
                tutor=data["tutor"],
                company=data["company"],
                function=data["function"],
            )
        except BusinessRuleError as exc:
            _form_refusal(request, form, exc)
        else:
            messages.success(
                request,
                _("Compte créé (identifiant « %(login)s ») : l'invitation est envoyée à %(email)s.")
                % {"login": person.username, "email": person.email},
            )
            return redirect("people:detail", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form})


@role_required(STAFF)
@require_GET
def person_detail(request, pk):
    person = _person(request, pk)
    commissions, seats = selectors.memberships_of(request.user, person)
    context = {
        "person": person,
        "centres": list(person.centres.all()),
        "may_manage": may_manage_person(request.user, person),
        "may_deactivate": may_deactivate_person(request.user, person),
        "invitation_pending": services.invitation_pending(person),
        "commissions": commissions,
        "seats": seats,
        "tutor": getattr(person, "tutor_profile", None) if person.role == Role.TUTOR else None,
    }
    if person.role == Role.EVALUATOR and person.is_active:
        context["commission_form"] = CommissionMembershipForm(actor=request.user, person=person)
    if person.role == Role.JURY and person.is_active:
        context["jury_form"] = JurySeatForm(actor=request.user, person=person)
    return render(request, "people/detail.html", context)


@role_required(STAFF)
@require_http_methods(["GET", "POST"])
def person_update(request, pk):
    person = _person(request, pk)
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "centres": list(person.centres.all()),
    }
    form = PersonUpdateForm(request.POST or None, initial=initial, actor=request.user, person=person)
    # Not `submit_form`: as person_create (`_form_refusal`).
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_person(
                by=request.user,
                person=person,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                phone=data["phone"],
                centres=list(data["centres"]) if "centres" in data else None,
            )
        except BusinessRuleError as exc:
            _form_refusal(request, form, exc)
        else:
            messages.success(request, _("Compte enregistré."))
            return redirect("people:detail", pk=person.pk)
    elif request.method == "GET" and not may_manage_person(request.user, person):
        messages.warning(
            request,
            _(
                "Ce compte travaille aussi pour un autre centre : seul un administrateur de la plateforme peut le modifier."
            ),
        )
        return redirect("people:detail", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": person})


def _action(request, pk, service, success):
    person = _person(request, pk)
    return run_action(
        request,
        lambda: service(by=request.user, person=person),
        success=lambda _result: success(person),
        redirect_to=reverse("people:detail", args=[person.pk]),
    )


@role_required(STAFF)
@require_POST
def person_deactivate(request, pk):
    return _action(
        request,
        pk,
        services.deactivate_person,
        lambda p: _("Compte désactivé : il ne peut plus se connecter."),
    )


@role_required(STAFF)
@require_POST
def person_reactivate(request, pk):
    return _action(request, pk, services.reactivate_person, lambda p: _("Compte réactivé."))


@role_required(STAFF)
@require_POST
def person_invite(request, pk):
    return _action(
        request,
        pk,
        services.send_invitation,
        lambda p: (
            _("Nouvelle invitation envoyée à %(email)s ; les liens précédents ne fonctionnent plus.")
            % {"email": p.email}
        ),
    )


@role_required(STAFF)
@require_POST
def commission_add(request, pk):
    person = _person(request, pk)
    form = CommissionMembershipForm(request.POST, actor=request.user, person=person)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("people:detail", pk=person.pk)
    return run_action(
        request,
        lambda: services.add_commission_membership(by=request.user, person=person, **form.cleaned_data),
        success=_("Ajouté(e) à la commission « %(name)s ».") % {"name": form.cleaned_data["commission"]},
        redirect_to=reverse("people:detail", args=[person.pk]),
    )


def _membership(request, pk, member_pk):
    person = _person(request, pk)
    membership = get_object_or_404(
        selectors.commission_memberships_in_scope(request.user, person), pk=member_pk
    )
    return person, membership


@role_required(STAFF)
@require_POST
def commission_president(request, pk, member_pk):
    person, membership = _membership(request, pk, member_pk)
    return run_action(
        request,
        lambda: services.set_commission_president(by=request.user, membership=membership),
        success=_("Président(e) de la commission « %(name)s ».") % {"name": membership.commission},
        redirect_to=reverse("people:detail", args=[person.pk]),
    )


@role_required(STAFF)
@require_POST
def commission_remove(request, pk, member_pk):
    person, membership = _membership(request, pk, member_pk)
    # The name is read before the membership is deleted.
    text = _("Retiré(e) de la commission « %(name)s ».") % {"name": membership.commission}
    return run_action(
        request,
        lambda: services.remove_commission_membership(by=request.user, membership=membership),
        success=text,
        redirect_to=reverse("people:detail", args=[person.pk]),
    )


@role_required(STAFF)
@require_POST
def jury_add(request, pk):
    person = _person(request, pk)
    form = JurySeatForm(request.POST, actor=request.user, person=person)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("people:detail", pk=person.pk)
    return run_action(
        request,
        lambda: services.add_jury_seat(by=request.user, person=person, **form.cleaned_data),
        success=_("Ajouté(e) au jury « %(name)s ».") % {"name": form.cleaned_data["jury"]},
        redirect_to=reverse("people:detail", args=[person.pk]),
    )


@role_required(STAFF)
@require_POST
def jury_remove(request, pk, seat_pk):
    person = _person(request, pk)
    seat = get_object_or_404(selectors.jury_seats_in_scope(request.user, person), pk=seat_pk)
    text = _("Retiré(e) du jury « %(name)s ».") % {"name": seat.jury}  # read before the seat goes
    return run_action(
        request,
        lambda: services.remove_jury_seat(by=request.user, seat=seat),
        success=text,
        redirect_to=reverse("people:detail", args=[person.pk]),
    )


def _form_errors(form):
    """One French sentence from a small form's errors (the membership forms post from the person's page)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label} : {' '.join(errors)}" if label else " ".join(errors))
    return _("Le formulaire contient des erreurs. %(details)s") % {"details": " ; ".join(parts)}


# --- the invitation link (anonymous) ---------------------------------------------------------


def _invited_user(uidb64):
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return get_user_model()._default_manager.filter(pk=pk).first()
    except (TypeError, ValueError, OverflowError):
        return None


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def invitation(request, uidb64, token):
    """Choose one's password with the link of the invitation e-mail (single use, expiring)."""
    person = _invited_user(uidb64)
    if not services.invitation_link_valid(person, token):
        return render(request, "people/invitation.html", {"valid": False})
    form = InvitationPasswordForm(request.POST or None, user=person)
    response = request.method == "POST" and submit_form(
        request,
        form,
        lambda: services.accept_invitation(
            person=person, token=token, password=form.cleaned_data["new_password1"]
        ),
        success=_(
            "Votre mot de passe est enregistré. Connectez-vous avec votre identifiant « %(login)s » "
            "ou votre adresse e-mail."
        )
        % {"login": person.username},
        redirect_to="login",
        error_as_message=True,
    )
    return response or render(
        request, "people/invitation.html", {"valid": True, "form": form, "person": person}
    )


# --- the candidate's own space (issue 23) ---------------------------------------------------


@role_required(Role.CANDIDATE)
@require_GET
def candidate_home(request):
    """« Mon espace candidat »: his dossier, convocations, the documents to hand in and — once the
    jury closed — results, documents and appeals. Only his own rows (people.candidate_space)."""

    candidate = space.own_candidate(request.user)
    competencies, blocks = space.capitalised_of(candidate)
    documents = space.documents_of(candidate)
    dossier = Dossier.objects.filter(candidate=candidate).prefetch_related("items").first()
    upload_open, upload_closes_on, upload_closed_reason = own_upload_window(candidate)
    appeals = space.appeals_by_session(candidate)
    today = timezone.localdate()
    outcomes = []
    for outcome in space.closed_outcomes_of(candidate):
        deadline = appeal_deadline(outcome.session, candidate)
        session_appeals = appeals.get(outcome.session_id, [])
        outcomes.append(
            {
                "outcome": outcome,
                "appeals": session_appeals,
                "appeal_deadline": deadline,
                "may_appeal": deadline is not None
                and today <= deadline
                and not session_appeals,  # one appeal per decision
            }
        )
    return render(
        request,
        "people/candidate_home.html",
        {
            "candidate": candidate,
            "dossier": dossier,
            "convocations": space.convocations_of(candidate),
            # once closed, only what was expected of him or handed in (no empty optional row)
            "expected": [
                row
                for row in space.expected_documents(candidate, dossier)
                if upload_open or row["required"] or row["received"]
            ],
            "upload_open": upload_open,
            "upload_closes_on": upload_closes_on,
            "upload_closed_reason": upload_closed_reason,
            "outcomes": outcomes,
            "competencies": competencies,
            "blocks": blocks,
            "documents": documents,
        },
    )


@role_required(Role.CANDIDATE)
@require_http_methods(["GET", "POST"])
def candidate_upload(request):
    """The candidate hands in his report or an evidence file before the deadline; the receipt follows."""

    candidate = space.own_candidate(request.user)
    is_open, closes_on, closed_reason = own_upload_window(candidate)
    form = CandidateUploadForm(request.POST or None, request.FILES or None, initial=request.GET or None)
    response = request.method == "POST" and submit_form(
        request,
        form,
        lambda: upload_own_document(
            candidate=candidate,
            kind=form.cleaned_data["kind"],
            uploaded_file=form.cleaned_data["file"],
            by=request.user,
        ),
        success=_("Document reçu. Voici votre accusé de réception."),
        redirect_to=lambda document: reverse("people:candidate_receipt", kwargs={"document_pk": document.pk}),
        error_field="file",
    )
    return response or render(
        request,
        "people/candidate_upload.html",
        {"form": form, "is_open": is_open, "closes_on": closes_on, "closed_reason": closed_reason},
    )


@role_required(Role.CANDIDATE)
@require_GET
def candidate_receipt(request, document_pk):
    """The receipt of one of his own uploads: file name, size, date and time, SHA-256."""

    document = space.own_upload(space.own_candidate(request.user), document_pk)
    return render(request, "people/candidate_receipt.html", {"document": document})


@role_required(Role.CANDIDATE)
@require_http_methods(["GET", "POST"])
def candidate_appeal(request, session_pk):
    """File a reasoned appeal (with attachments) against the closed deliberation of his result."""

    candidate = space.own_candidate(request.user)
    outcome = space.closed_outcome_for_session(candidate, session_pk)
    deadline = deliberation_services.appeal_deadline(outcome.session, candidate)
    form = CandidateAppealForm(request.POST or None, request.FILES or None)
    response = request.method == "POST" and submit_form(
        request,
        form,
        lambda: deliberation_services.file_appeal(
            by=request.user,
            candidate=candidate,
            session=outcome.session,
            reason=form.cleaned_data["reason"],
            attachments=form.cleaned_data["attachments"],
        ),
        success=_("Votre recours est enregistré. Un accusé de réception vous est envoyé par courriel."),
        redirect_to="people:candidate_home",
        error_as_message=True,
    )
    return response or render(
        request,
        "people/candidate_appeal.html",
        {
            "form": form,
            "outcome": outcome,
            "deadline": deadline,
            "expired": deadline is None or timezone.localdate() > deadline,
        },
    )


@role_required(Role.CANDIDATE)
@require_GET
def candidate_data(request):
    """RGPD: the legal basis and consents recorded, his requests, the export and a rectification form."""

    candidate = space.own_candidate(request.user)
    return render(
        request,
        "people/candidate_data.html",
        {
            "candidate": candidate,
            "requests": list(
                AccessRequest.objects.filter(candidate=candidate).order_by("-received_on", "-pk")
            ),
            "form": RectificationForm(),
        },
    )


@role_required(Role.CANDIDATE)
@require_POST
def candidate_data_export(request):
    """The archive of his own personal data (the staff export, filtered to himself); audited."""

    candidate = space.own_candidate(request.user)
    archive = export_own_personal_data(candidate=candidate, by=request.user)
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="mes-donnees-{candidate.reference}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.CANDIDATE)
@require_POST
def candidate_rectification(request):

    candidate = space.own_candidate(request.user)
    form = RectificationForm(request.POST)
    response = submit_form(
        request,
        form,
        lambda: request_rectification(
            candidate=candidate, by=request.user, details=form.cleaned_data["details"]
        ),
        success=lambda access_request: (
            _("Votre demande de rectification est transmise au centre, qui y répond au plus tard le %(d)s.")
            % {"d": long_date(access_request.due_on)}
        ),
        redirect_to="people:candidate_data",
        error_field="details",
    )
    return response or render(
        request,
        "people/candidate_data.html",
        {
            "candidate": candidate,
            "requests": list(
                AccessRequest.objects.filter(candidate=candidate).order_by("-received_on", "-pk")
            ),
            "form": form,
        },
        status=400,
    )


@role_required(Role.CANDIDATE)
@require_GET
def candidate_document(request, document_pk):
    """Download one of his own documents (current edition, closed session); audited."""

    document = space.document_of(space.own_candidate(request.user), document_pk)
    return download_generated_document(request, document)
