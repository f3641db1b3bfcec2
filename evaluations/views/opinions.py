"""Tutor pages: the invitation link, the "opinions to give" list and the company opinion form."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core.exceptions import BusinessRuleError
from core.exports import audited_export_response, requested_format
from core.models import Role
from core.permissions import role_required
from core.views_kit import require_permission

from .. import selectors, services
from ..forms import TutorPasswordForm, parse_opinion_post
from ..models import Opinion
from ..services.opinions import invitation_needs_password

tutor_only = role_required(Role.TUTOR)


@tutor_only
def opinions_todo(request):
    rows = selectors.opinions_todo_rows(request.user)
    fmt = requested_format(request)
    if fmt:
        return audited_export_response(
            request,
            filename="avis-a-donner",
            headers=[_("Candidat"), _("CQPM"), _("Intitulé"), _("Avis"), _("À rendre avant le")],
            rows=(
                [
                    row["candidate"].full_name,
                    row["candidate"].certification.code,
                    row["candidate"].certification.title,
                    _("signé")
                    if row["signed"]
                    else _("%(given)s / %(total)s compétence(s)")
                    % {"given": row["given"], "total": row["total"]},
                    "" if row["signed"] else row["due_date"],
                ]
                for row in rows
            ),
            fmt=fmt,
        )
    return render(request, "evaluations/opinions_todo.html", {"rows": rows})


@tutor_only
def opinion(request, candidate_pk):
    candidate = get_object_or_404(
        selectors.tutor_candidates(request.user).select_related("certification", "company", "tutor"),
        pk=candidate_pk,
    )
    require_permission(request.user, "evaluations.give_opinion", candidate)
    if candidate.is_vae:
        messages.error(
            request,
            _(
                "L'avis de l'entreprise ne s'applique pas aux candidats en VAE (validation des acquis de l'expérience)."
            ),
        )
        return render(request, "evaluations/opinion.html", {"candidate": candidate, "vae": True}, status=400)
    opinions = selectors.opinions_of(candidate)
    posted = None
    status = 200
    if request.method == "POST":
        posted = parse_opinion_post(request.POST, opinions)
        sign = request.POST.get("action") == "sign"
        # Not `submit_form`: no Django form (one field per competency), the page reloads the opinions.
        try:
            services.save_opinions(candidate=candidate, by=request.user, values=posted)
            if sign:
                services.sign_opinions(candidate=candidate, by=request.user)
        except BusinessRuleError as exc:
            messages.error(request, exc.message)
            status = 400
            opinions = selectors.opinions_of(candidate)
        else:
            messages.success(
                request,
                _("Avis signé et transmis au centre. Merci !") if sign else _("Avis enregistré (non signé)."),
            )
            return (
                redirect("evaluations:opinion", candidate.pk)
                if not sign
                else redirect("evaluations:opinions_todo")
            )
    rows = []
    for item in opinions:
        value, comment = posted.get(item.competency_id, ("", "")) if posted else (item.opinion, item.comment)
        rows.append({"opinion": item, "value": value, "comment": comment})
    return render(
        request,
        "evaluations/opinion.html",
        {
            "candidate": candidate,
            "rows": rows,
            "choices": Opinion.choices,
            "signed": bool(opinions) and all(o.is_signed for o in opinions),
            "due_date": min((o.due_date for o in opinions if o.due_date), default=None),
        },
        status=status,
    )


def _no_referrer(response):
    # The link's token must not leak to other sites through the Referer header. "same-origin", not
    # "no-referrer": with no-referrer, Chromium sends `Origin: null` when the page's form is posted and
    # Django's CSRF check refuses it (seen by the browser tests, tests/e2e).
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
def invitation(request, token):
    """The tutor's single-use link: choose a password (first time) or log in directly."""
    try:  # a dead link is its own page (404 / 410), no form yet
        invitation_obj = services.check_invitation(token)
    except BusinessRuleError as exc:
        status = 404 if exc.code == "invalid_link" else 410
        return _no_referrer(
            render(request, "evaluations/invitation_invalid.html", {"message": exc.message}, status=status)
        )
    if not invitation_needs_password(invitation_obj):
        # The account has a password: the link only leads to the login page, never logs in.
        messages.info(
            request, _("Vous avez déjà un accès à la plateforme : connectez-vous avec votre mot de passe.")
        )
        target = (
            reverse("evaluations:opinion", args=[invitation_obj.candidate_id])
            if invitation_obj.candidate_id
            else reverse("evaluations:opinions_todo")
        )
        return _no_referrer(redirect(f"{reverse('login')}?{urlencode({'next': target})}"))
    form = TutorPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():  # not `submit_form`: a dead link is its own page (410)
            try:
                user = services.accept_invitation(token=token, password=form.cleaned_data["password1"])
            except BusinessRuleError as exc:
                if exc.code == "password":
                    form.add_error("password1", exc.message)
                else:
                    return _no_referrer(
                        render(
                            request,
                            "evaluations/invitation_invalid.html",
                            {"message": exc.message},
                            status=410,
                        )
                    )
            else:
                login(request, user, backend="core.backends.EmailOrUsernameBackend")
                messages.success(
                    request,
                    _(
                        "Bienvenue : voici les avis que le centre attend de vous. Votre identifiant : "
                        "%(login)s (ou votre adresse e-mail)."
                    )
                    % {"login": user.username},
                )
                if invitation_obj.candidate_id:
                    return redirect("evaluations:opinion", invitation_obj.candidate_id)
                return redirect("evaluations:opinions_todo")
        status = 400
    return _no_referrer(
        render(
            request,
            "evaluations/invitation.html",
            {"invitation": invitation_obj, "tutor": invitation_obj.tutor, "form": form},
            status=status,
        )
    )
