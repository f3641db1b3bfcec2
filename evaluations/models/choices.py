from django.db import models
from django.utils.translation import gettext_lazy as _


class College(models.TextChoices):
    EMPLOYEES = "employees", _("Collège salariés")
    EMPLOYERS = "employers", _("Collège employeurs")


class SheetStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Soumise")


class Judgement(models.TextChoices):
    """The judgement of one observable criterion (grille d'évaluation)."""

    ACQUIRED = "acquired", _("Acquis")
    NOT_ACQUIRED = "not_acquired", _("Non acquis")
    NOT_OBSERVED = "not_observed", _("Non observé")


class Conclusion(models.TextChoices):
    """The conclusion on a competency (a sheet's, or the commission's proposal)."""

    ACQUIRED = "acquired", _("Acquise")
    NOT_ACQUIRED = "not_acquired", _("Non acquise")


class Opinion(models.TextChoices):
    """Avis de l'entreprise on one competency."""

    FAVOURABLE = "favourable", _("Favorable")
    RESERVED = "reserved", _("Réservé")
    UNFAVOURABLE = "unfavourable", _("Défavorable")
