"""The jury's decisions: per competency, the candidate's outcome, amendments and capitalisation."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.text import COMMENT_MAX, max_length_constraint


class Decision(models.TextChoices):
    ACQUIRED = "acquired", _("Acquise")
    NOT_ACQUIRED = "not_acquired", _("Non acquise")


class Result(models.TextChoices):
    CERTIFIED = "certified", _("CQPM attribué")
    PARTIAL = "partial", _("Résultat partiel")
    FAILED = "failed", _("Non attribué")


class CompetencyDecision(models.Model):
    session = models.ForeignKey(
        "deliberations.DeliberationSession",
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="competency_decisions",
    )
    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.PROTECT,
        related_name="competency_decisions",
    )
    competency = models.ForeignKey(
        "referential.Competency", verbose_name=_("compétence"), on_delete=models.PROTECT, related_name="+"
    )
    proposed = models.CharField(_("proposition"), max_length=15, choices=Decision.choices)
    needs_review = models.BooleanField(_("à réexaminer"), default=False)
    decided = models.CharField(_("décision du jury"), max_length=15, choices=Decision.choices)
    motivation = models.TextField(_("motivation"), blank=True, max_length=COMMENT_MAX)
    explanation = models.JSONField(_("explication"), default=dict)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saisie par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("décidée le"))

    class Meta:
        ordering = ["session", "candidate", "competency__number"]
        verbose_name = _("décision par compétence")
        verbose_name_plural = _("décisions par compétence")
        constraints = [
            max_length_constraint("deliberations_competencydecision", "motivation", COMMENT_MAX),
            models.UniqueConstraint(
                fields=["session", "candidate", "competency"], name="deliberations_decision_competency"
            ),
            # The jury may depart from the proposal only with a written motivation.
            models.CheckConstraint(
                condition=Q(decided=models.F("proposed")) | ~Q(motivation=""),
                name="deliberations_override_motivated",
            ),
        ]

    def __str__(self):
        return f"{self.candidate_id}/{self.competency_id}: {self.decided}"

    @property
    def is_override(self):
        return self.decided != self.proposed


class CandidateOutcome(models.Model):
    session = models.ForeignKey(
        "deliberations.DeliberationSession",
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="outcomes",
    )
    candidate = models.ForeignKey(
        "candidates.Candidate", verbose_name=_("candidat"), on_delete=models.PROTECT, related_name="outcomes"
    )
    result = models.CharField(_("résultat"), max_length=10, choices=Result.choices)
    blocks_acquired = models.ManyToManyField(
        "referential.Block", verbose_name=_("blocs acquis"), related_name="+", blank=True
    )
    explanation = models.JSONField(_("explication"), default=dict)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saisi par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("décidé le"))
    amended_at = models.DateTimeField(_("modifié le"), null=True, blank=True)
    # What the jury wants the candidate to read (printed in the result letter). The motivations of the
    # decisions are the jury's internal record: they are printed in the PV, never in the letter.
    reason_for_candidate = models.TextField(
        _("message du jury au candidat"),
        max_length=COMMENT_MAX,
        blank=True,
        help_text=_(
            "Facultatif. Imprimé dans la lettre de résultat. Les motivations des décisions restent "
            "internes au procès-verbal."
        ),
    )

    class Meta:
        ordering = ["session", "candidate__reference"]
        verbose_name = _("résultat du candidat")
        verbose_name_plural = _("résultats des candidats")
        constraints = [
            max_length_constraint("deliberations_candidateoutcome", "reason_for_candidate", COMMENT_MAX),
            models.UniqueConstraint(fields=["session", "candidate"], name="deliberations_outcome_candidate"),
            models.CheckConstraint(
                condition=Q(result__in=Result.values), name="deliberations_outcome_result"
            ),
        ]

    def __str__(self):
        return f"{self.candidate_id}: {self.result}"


class OutcomeAmendment(models.Model):
    """An amendment after closing (staff, with motivation); the previous state is kept here."""

    outcome = models.ForeignKey(
        CandidateOutcome, verbose_name=_("résultat"), on_delete=models.CASCADE, related_name="amendments"
    )
    motivation = models.TextField(_("motivation"), max_length=COMMENT_MAX)
    previous_result = models.CharField(_("résultat précédent"), max_length=10, choices=Result.choices)
    previous_explanation = models.JSONField(_("explication précédente"), default=dict)
    previous_decisions = models.JSONField(_("décisions précédentes"), default=list)
    pv_version = models.PositiveIntegerField(_("version du PV produite"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("le"), auto_now_add=True)

    class Meta:
        ordering = ["outcome", "at"]
        verbose_name = _("modification après clôture")
        verbose_name_plural = _("modifications après clôture")
        constraints = [
            max_length_constraint("deliberations_outcomeamendment", "motivation", COMMENT_MAX),
            models.CheckConstraint(condition=~Q(motivation=""), name="deliberations_amendment_motivated"),
        ]

    def __str__(self):
        return f"{self.outcome_id} v{self.pv_version}"


class CapitalisedCompetency(models.Model):
    """A competency validated by a jury: it stays acquired until `valid_until` (24 months, settings)."""

    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.CASCADE,
        related_name="capitalised_competencies",
    )
    competency = models.ForeignKey(
        "referential.Competency", verbose_name=_("compétence"), on_delete=models.PROTECT, related_name="+"
    )
    # Written by one of our deliberations (session) or by an earlier one recorded explicitly (prior).
    session = models.ForeignKey(
        "deliberations.DeliberationSession",
        verbose_name=_("délibération"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="capitalised_competencies",
    )
    prior = models.ForeignKey(
        "deliberations.PriorDeliberation",
        verbose_name=_("délibération antérieure"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="capitalised_competencies",
    )
    acquired_on = models.DateField(_("acquise le"))
    valid_until = models.DateField(_("acquise jusqu'au"))

    class Meta:
        ordering = ["candidate", "competency__number"]
        verbose_name = _("compétence capitalisée")
        verbose_name_plural = _("compétences capitalisées")
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "competency", "session"], name="deliberations_capitalised_competency"
            ),
            models.UniqueConstraint(
                fields=["candidate", "competency", "prior"], name="deliberations_capitalised_competency_prior"
            ),
            models.CheckConstraint(
                condition=Q(session__isnull=False, prior__isnull=True)
                | Q(session__isnull=True, prior__isnull=False),
                name="deliberations_capitalised_competency_one_source",
            ),
        ]

    def __str__(self):
        return f"{self.candidate_id}/{self.competency_id} → {self.valid_until}"


class CapitalisedBlock(models.Model):
    """A bloc validated by a jury: acquired until `valid_until` (5 years, settings; RNCP CQPMs)."""

    candidate = models.ForeignKey(
        "candidates.Candidate",
        verbose_name=_("candidat"),
        on_delete=models.CASCADE,
        related_name="capitalised_blocks",
    )
    block = models.ForeignKey(
        "referential.Block", verbose_name=_("bloc"), on_delete=models.PROTECT, related_name="+"
    )
    # Written by one of our deliberations (session) or by an earlier one recorded explicitly (prior).
    session = models.ForeignKey(
        "deliberations.DeliberationSession",
        verbose_name=_("délibération"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="capitalised_blocks",
    )
    prior = models.ForeignKey(
        "deliberations.PriorDeliberation",
        verbose_name=_("délibération antérieure"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="capitalised_blocks",
    )
    acquired_on = models.DateField(_("acquis le"))
    valid_until = models.DateField(_("acquis jusqu'au"))

    class Meta:
        ordering = ["candidate", "block__number"]
        verbose_name = _("bloc capitalisé")
        verbose_name_plural = _("blocs capitalisés")
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "block", "session"], name="deliberations_capitalised_block"
            ),
            models.UniqueConstraint(
                fields=["candidate", "block", "prior"], name="deliberations_capitalised_block_prior"
            ),
            models.CheckConstraint(
                condition=Q(session__isnull=False, prior__isnull=True)
                | Q(session__isnull=True, prior__isnull=False),
                name="deliberations_capitalised_block_one_source",
            ),
        ]

    def __str__(self):
        return f"{self.candidate_id}/{self.block_id} → {self.valid_until}"
