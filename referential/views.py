"""Referential pages. Thin: objects come from `selectors`, every change goes through `services`."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from core.exceptions import BusinessRuleError
from core.exports import export_response, requested_format
from core.files import safe_filename
from core.permissions import RoleRequiredMixin
from core.views_kit import require_permission, run_action, submit_form

from . import formats, selectors, services
from .forms import CriterionForm, ReferentialUploadForm, RncpRegistrationForm
from .models import CertificationStatus
from .permissions import MANAGE_ROLES, READ_ROLES, can_manage_referentials


def _certification(request, pk, *, full=False):
    """The certification `pk` as the user may see it (outside their scope: 404)."""
    queryset = (
        selectors.certification_detail_queryset(request.user)
        if full
        else selectors.certifications_visible_to(request.user)
    )
    return get_object_or_404(queryset, pk=pk)


class CertificationListView(RoleRequiredMixin, View):
    allowed_roles = READ_ROLES

    def get(self, request):
        certifications = selectors.certification_list(request.user)
        fmt = requested_format(request)
        if fmt:
            return export_response(
                filename="referentiels",
                headers=[
                    _("Code"),
                    _("Intitulé"),
                    _("RNCP"),
                    _("Version"),
                    _("Statut"),
                    _("Blocs"),
                    _("Compétences"),
                    _("Publié le"),
                ],
                rows=(
                    [
                        c.code,
                        c.title,
                        c.rncp_number,
                        c.version,
                        c.get_status_display(),
                        c.block_count,
                        c.competency_count,
                        timezone.localtime(c.published_at).date() if c.published_at else None,
                    ]
                    for c in certifications
                ),
                fmt=fmt,
            )
        return render(
            request,
            "referential/list.html",
            {
                "certifications": certifications,
                "can_manage": can_manage_referentials(request.user),
            },
        )


class CertificationDetailView(RoleRequiredMixin, View):
    allowed_roles = READ_ROLES

    def get(self, request, pk):
        certification = _certification(request, pk, full=True)
        can_manage = can_manage_referentials(request.user)
        context = {
            "certification": certification,
            "can_manage": can_manage,
            "versions": selectors.other_versions(certification) if can_manage else (),
            "has_draft": can_manage and selectors.drafts_of(certification.code).exists(),
        }
        return render(request, "referential/detail.html", context)


class CertificationExportView(RoleRequiredMixin, View):
    allowed_roles = READ_ROLES

    def get(self, request, pk):
        certification = _certification(request, pk, full=True)
        response = HttpResponse(
            formats.dumps(formats.serialise(certification)), content_type="application/json; charset=utf-8"
        )
        filename = safe_filename(f"referentiel-{certification.code}-v{certification.version}.json")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class CertificationUploadView(RoleRequiredMixin, View):
    allowed_roles = MANAGE_ROLES
    template_name = "referential/upload.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ReferentialUploadForm()})

    def post(self, request):
        form = ReferentialUploadForm(request.POST, request.FILES)
        import_errors = []
        # Not `submit_form`: the refusal carries the located errors of the file, listed under the form.
        if form.is_valid():
            try:
                certification = services.import_certification_file(
                    content=form.cleaned_data["file"].read(), actor=request.user
                )
            except services.ReferentialImportError as exc:
                messages.error(request, exc.message)
                import_errors = exc.errors
            else:
                messages.success(
                    request,
                    _(
                        "Référentiel %(code)s version %(version)s importé comme brouillon. Vérifiez-le puis publiez-le."
                    )
                    % {"code": certification.code, "version": certification.version},
                )
                return redirect("referential:detail", pk=certification.pk)
        return render(request, self.template_name, {"form": form, "import_errors": import_errors}, status=400)


class _ManageActionView(RoleRequiredMixin, View):
    """POST-only staff action on one certification (`act`); a refused rule becomes an error message
    on the certification's page."""

    allowed_roles = MANAGE_ROLES
    http_method_names = ["post"]

    def post(self, request, pk):
        certification = _certification(request, pk)
        detail = reverse("referential:detail", args=[certification.pk])
        return run_action(
            request,
            lambda: self.act(request, certification),
            success=lambda result: self.success_message(certification, result),
            redirect_to=lambda result: self.success_url(certification, result) or detail,
            error_redirect_to=detail,
        )

    def success_url(self, certification, result):
        return None


class PublishView(_ManageActionView):
    def act(self, request, certification):
        return services.publish(certification=certification, actor=request.user)

    def success_message(self, certification, result):
        return _(
            "La version %(version)s est publiée : elle est désormais en vigueur et ne peut plus être modifiée."
        ) % {"version": certification.version}


class NewDraftView(_ManageActionView):
    def act(self, request, certification):
        return services.create_draft_from(certification=certification, actor=request.user)

    def success_message(self, certification, draft):
        return _("Brouillon version %(version)s créé : modifiez-le puis publiez-le.") % {
            "version": draft.version
        }

    def success_url(self, certification, draft):
        return reverse("referential:detail", args=[draft.pk])


class DeleteDraftView(_ManageActionView):
    def act(self, request, certification):
        return services.delete_draft(certification=certification, actor=request.user)

    def success_message(self, certification, result):
        return _("Le brouillon a été supprimé.")

    def success_url(self, certification, result):
        return reverse("referential:list")


class RncpRegistrationView(RoleRequiredMixin, View):
    """The CQPM's RNCP number and level (every version of the code), set by staff and audited."""

    allowed_roles = MANAGE_ROLES
    template_name = "referential/rncp_form.html"

    def _render(self, request, certification, form, status=200):
        return render(
            request, self.template_name, {"certification": certification, "form": form}, status=status
        )

    def get(self, request, pk):
        certification = _certification(request, pk)
        require_permission(request.user, "referential.set_rncp_registration")
        form = RncpRegistrationForm(
            initial={"rncp_number": certification.rncp_number, "rncp_level": certification.rncp_level}
        )
        return self._render(request, certification, form)

    def post(self, request, pk):
        certification = _certification(request, pk)
        require_permission(request.user, "referential.set_rncp_registration")
        form = RncpRegistrationForm(request.POST)

        def recorded(_result):
            if not certification.rncp_number:
                return _("Le CQPM est désormais indiqué comme non enregistré au RNCP.")
            return _(
                "Enregistrement RNCP mis à jour : %(number)s, niveau %(level)s (toutes les versions du CQPM)."
            ) % {"number": certification.rncp_number, "level": certification.rncp_level}

        response = submit_form(
            request,
            form,
            lambda: services.set_rncp_registration(
                certification=certification,
                rncp_number=form.cleaned_data["rncp_number"],
                rncp_level=form.cleaned_data["rncp_level"],
                actor=request.user,
            ),
            success=recorded,
            redirect_to=reverse("referential:detail", args=[certification.pk]),
        )
        return response or self._render(request, certification, form, status=400)


class CompetencyEditView(RoleRequiredMixin, View):
    """The criteria of one competency of a draft: edit each text/category, add one, remove one."""

    allowed_roles = MANAGE_ROLES
    template_name = "referential/competency_edit.html"

    def _load(self, request, pk, number):
        certification = _certification(request, pk)
        competency = certification.competencies.select_related("block").filter(number=number).first()
        if competency is None:
            raise Http404
        return certification, competency

    def _render(self, request, certification, competency, *, bound=None, add_form=None, status=200):
        rows = []
        for criterion in competency.criteria.all():
            if bound is not None and bound.prefix == f"c{criterion.pk}":
                form = bound
            else:
                form = CriterionForm(
                    prefix=f"c{criterion.pk}",
                    initial={"category": criterion.category, "text": criterion.text},
                )
            rows.append((criterion, form))
        context = {
            "certification": certification,
            "competency": competency,
            "rows": rows,
            "add_form": add_form or CriterionForm(prefix="new"),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk, number):
        certification, competency = self._load(request, pk, number)
        if certification.status != CertificationStatus.DRAFT:
            messages.info(request, _("Seul un brouillon se modifie : créez d'abord une nouvelle version."))
            return redirect("referential:detail", pk=certification.pk)
        return self._render(request, certification, competency)

    def post(self, request, pk, number):
        certification, competency = self._load(request, pk, number)
        action = request.POST.get("action")
        criterion = None
        if action in ("update", "remove"):
            criterion = competency.criteria.filter(pk=request.POST.get("criterion") or 0).first()
            if criterion is None:
                raise Http404
        form = None
        # Not `submit_form`: three actions (add, update, remove) on one page, each with its own return.
        try:
            if action == "remove":
                services.remove_criterion(criterion=criterion, actor=request.user)
                messages.success(request, _("Critère supprimé."))
            elif action in ("update", "add"):
                form = CriterionForm(request.POST, prefix=f"c{criterion.pk}" if criterion else "new")
                if not form.is_valid():
                    return self._invalid(request, certification, competency, form, action)
                if action == "update":
                    services.update_criterion(
                        criterion=criterion,
                        text=form.cleaned_data["text"],
                        category=form.cleaned_data["category"],
                        actor=request.user,
                    )
                    messages.success(request, _("Critère enregistré."))
                else:
                    services.add_criterion(
                        competency=competency,
                        category=form.cleaned_data["category"],
                        text=form.cleaned_data["text"],
                        actor=request.user,
                    )
                    messages.success(request, _("Critère ajouté."))
            else:
                return HttpResponse(status=400)
        except BusinessRuleError as exc:
            messages.error(request, exc.message)
            if certification.status != CertificationStatus.DRAFT or form is None:
                return redirect("referential:detail", pk=certification.pk)
            return self._invalid(request, certification, competency, form, action)
        url = reverse(
            "referential:edit_competency", kwargs={"pk": certification.pk, "number": competency.number}
        )
        anchor = f"critere-{criterion.pk}" if action == "update" else "criteres"
        return redirect(f"{url}#{anchor}")

    def _invalid(self, request, certification, competency, form, action):
        if action == "add":
            return self._render(request, certification, competency, add_form=form, status=400)
        return self._render(request, certification, competency, bound=form, status=400)
