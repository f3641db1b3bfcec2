"""An earlier deliberation recorded explicitly (issue 22): a jury held before the product, or in
another centre, whose PV validated competencies or blocs of the candidate. Staff record it with the
scanned PV and a reason; the competencies and blocs it validated are the `CapitalisedCompetency` /
`CapitalisedBlock` rows pointing at it (`prior`), with validity computed from its date."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.text import REASON_MAX, max_length_constraint


class PriorDeliberation(models.Model):
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.CASCADE,
        related_name="prior_deliberations",
    )
    centre_name = models.CharField(_("centre de certification"), max_length=200)
    deliberation_date = models.DateField(_("date de la délibération"))
    pv_number = models.CharField(_("numéro du PV"), max_length=60)
    document = models.ForeignKey(
        "candidates.CandidateDocument",
        verbose_name=_("PV numérisé"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # erased with the candidate's files at anonymisation
        related_name="+",
    )
    document_sha256 = models.CharField(_("empreinte SHA-256 du PV"), max_length=64)
    reason = models.TextField(_("motif de l'enregistrement"), max_length=REASON_MAX)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistrée par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)

    class Meta:
        ordering = ["candidate", "-deliberation_date", "-id"]
        verbose_name = _("délibération antérieure")
        verbose_name_plural = _("délibérations antérieures")
        constraints = [max_length_constraint("deliberations_priordeliberation", "reason", REASON_MAX)]

    def __str__(self):
        return f"{self.candidate_id} / {self.deliberation_date} / PV {self.pv_number}"
