"""Companies, tutors, candidates, their evaluation dossier and documents (issue 4).

Every tenant-owned row reaches its centre: `Company.centre`, `Candidate.centre`, and through them
`Tutor`, `Dossier`, `DossierCompetency`, `CandidateDocument` and `CandidateStatusChange`. Views never
query these models directly: they go through `candidates.selectors`.
"""

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower, StrIndex, Substr
from django.utils.translation import gettext_lazy as _

from core.models import CertificationCentre
from core.text import REASON_MAX, max_length_constraint
from referential.models import ModalityCode

from .validators import validate_siret


class Pathway(models.TextChoices):
    EMPLOYEE = "employee", _("Salarié")
    APPRENTICE = "apprentice", _("Alternant / contrat de professionnalisation")
    JOB_SEEKER = "job_seeker", _("Demandeur d'emploi")
    VAE = "vae", _("VAE (validation des acquis de l'expérience)")
    OTHER = "other", _("Autre")


# Pathways for which company and tutor are optional (issue 4: « demandeur d'emploi et VAE »).
PATHWAYS_WITHOUT_COMPANY = frozenset({Pathway.JOB_SEEKER, Pathway.VAE})


class Sex(models.TextChoices):
    FEMALE = "F", _("Femme")
    MALE = "M", _("Homme")


class CandidateStatus(models.TextChoices):
    REGISTERED = "registered", _("Inscrit")
    DOSSIER_VALIDATED = "dossier_validated", _("Dossier validé")
    IN_EVALUATION = "in_evaluation", _("En évaluation")
    AWAITING_DELIBERATION = "awaiting_deliberation", _("En attente de délibération")
    DELIBERATED = "deliberated", _("Délibéré")
    WITHDRAWN = "withdrawn", _("Abandon / retrait")


OPEN_STATUSES = frozenset(
    {
        CandidateStatus.REGISTERED,
        CandidateStatus.DOSSIER_VALIDATED,
        CandidateStatus.IN_EVALUATION,
        CandidateStatus.AWAITING_DELIBERATION,
    }
)
CLOSED_STATUSES = frozenset({CandidateStatus.DELIBERATED, CandidateStatus.WITHDRAWN})


class LegalBasis(models.TextChoices):
    """RGPD art. 6 basis recorded at registration."""

    CONTRACT = "contract", _("Exécution de l'inscription à la certification (contrat)")
    LEGAL_OBLIGATION = "legal_obligation", _("Obligation légale (déclaration des titulaires au SI CPF)")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Intérêt légitime du certificateur")
    CONSENT = "consent", _("Consentement du candidat")


class DocumentKind(models.TextChoices):
    REPORT = "report", _("Rapport")
    EVIDENCE = "evidence", _("Élément de preuve")
    OTHER = "other", _("Autre")
    PRIOR_PV = "prior_pv", _("PV d'une délibération antérieure")
    APPEAL = "appeal", _("Pièce jointe d'un recours")


# What the candidate himself may upload from his space before the evaluation (issue 23).
CANDIDATE_UPLOAD_KINDS = (DocumentKind.REPORT, DocumentKind.EVIDENCE)


postcode_validator = RegexValidator(r"^[0-9AB]{5}$", _("Le code postal doit comporter 5 caractères."))
# INSEE code of a commune (Corsica: 2A/2B; born abroad: 99 + the country's INSEE code).
insee_code_validator = RegexValidator(
    r"^(?:[0-9]{5}|2[ABab][0-9]{3})$",  # stored upper-case (candidates.services)
    _("Le code INSEE de la commune comporte 5 caractères (par exemple 54395 ; 2A004 en Corse)."),
)


class Company(models.Model):
    centre = models.ForeignKey(
        CertificationCentre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="companies"
    )
    name = models.CharField(_("raison sociale"), max_length=200)
    siret = models.CharField(
        _("SIRET"), max_length=14, validators=[validate_siret], help_text=_("14 chiffres, sans espace.")
    )
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True, validators=[postcode_validator])
    city = models.CharField(_("ville"), max_length=100, blank=True)
    opco = models.CharField(_("OPCO"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("entreprise")
        verbose_name_plural = _("entreprises")
        constraints = [
            models.UniqueConstraint(fields=["centre", "siret"], name="candidates_company_siret_per_centre"),
        ]

    def __str__(self):
        return self.name


class Tutor(models.Model):
    """A tutor or company contact. `user` is set when the tutor is invited (evaluations)."""

    company = models.ForeignKey(
        Company, verbose_name=_("entreprise"), on_delete=models.PROTECT, related_name="tutors"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte utilisateur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tutor_profile",
    )
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    function = models.CharField(_("fonction"), max_length=150, blank=True)
    email = models.EmailField(_("adresse électronique"))
    # Computed by the database on every write (bulk paths included), so it can never drift from
    # `email`: the conflict-of-interest check finds a domain's tutors through its index instead of
    # scanning every tutor's address with a suffix match.
    email_domain = models.GeneratedField(
        expression=Lower(Substr("email", StrIndex("email", models.Value("@")) + 1)),
        output_field=models.CharField(max_length=254),
        db_persist=True,
        verbose_name=_("domaine de l'adresse"),
    )
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["email_domain"], name="tutor_email_domain_idx")]
        verbose_name = _("tuteur / contact entreprise")
        verbose_name_plural = _("tuteurs / contacts entreprise")

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


def display_name(birth_name, usage_name, first_names, anonymised):
    """`Candidate.full_name` from its columns: pages that read rows with `values()` call it too."""
    if anonymised:
        return str(_("Candidat anonymisé"))
    name = usage_name or birth_name
    return f"{name.upper()} {first_names}".strip()


class Candidate(models.Model):
    centre = models.ForeignKey(
        CertificationCentre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="candidates"
    )
    certification = models.ForeignKey(
        "referential.Certification",
        verbose_name=_("CQPM (version)"),
        on_delete=models.PROTECT,
        related_name="candidates",
        help_text=_("La version en vigueur à l'inscription."),
    )
    reference = models.CharField(_("référence"), max_length=30, unique=True, editable=False)
    birth_name = models.CharField(_("nom de naissance"), max_length=150)
    usage_name = models.CharField(_("nom d'usage"), max_length=150, blank=True)
    first_names = models.CharField(_("prénoms"), max_length=200)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date de naissance"))
    birth_place = models.CharField(_("lieu de naissance"), max_length=150, blank=True)
    birth_country = models.CharField(_("pays de naissance"), max_length=100, blank=True, default="France")
    # The CPF holders declaration identifies the birth commune by its INSEE code, else its postcode.
    birth_insee_code = models.CharField(
        _("code INSEE de la commune de naissance"),
        max_length=5,
        blank=True,
        validators=[insee_code_validator],
        help_text=_("Pour la déclaration au SI CPF (à défaut : le code postal de naissance)."),
    )
    birth_postcode = models.CharField(
        _("code postal de naissance"), max_length=5, blank=True, validators=[postcode_validator]
    )
    email = models.EmailField(_("adresse électronique"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True, validators=[postcode_validator])
    city = models.CharField(_("ville"), max_length=100, blank=True)
    pathway = models.CharField(_("parcours"), max_length=20, choices=Pathway.choices)
    company = models.ForeignKey(
        Company,
        verbose_name=_("entreprise"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="candidates",
    )
    tutor = models.ForeignKey(
        Tutor,
        verbose_name=_("tuteur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidates",
    )
    # The candidate's own account (issue 23): created by `people` when staff validate the dossier.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("compte du candidat"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidate_record",
    )
    registered_on = models.DateField(_("date d'inscription"))
    status = models.CharField(
        _("statut"), max_length=30, choices=CandidateStatus.choices, default=CandidateStatus.REGISTERED
    )
    status_changed_at = models.DateTimeField(_("statut modifié le"))
    legal_basis = models.CharField(
        _("base légale du traitement"), max_length=30, choices=LegalBasis.choices, default=LegalBasis.CONTRACT
    )
    consent_given_at = models.DateTimeField(_("consentement recueilli le"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymisé le"), null=True, blank=True)
    previous_attempt = models.ForeignKey(
        "self",
        verbose_name=_("tentative précédente"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="later_attempts",
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-registered_on", "-id"]
        verbose_name = _("candidat")
        verbose_name_plural = _("candidats")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CandidateStatus.values),
                name="candidates_candidate_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(pathway__in=Pathway.values), name="candidates_candidate_pathway_valid"
            ),
        ]
        indexes = [
            # A centre's candidates of one status, in the list's order (issue 21): the keyset page of
            # a centre's staff filtered by status is a range of 51 entries of this index, and its
            # capped count a range too (it replaces the index on (centre, status), its prefix).
            models.Index(
                fields=["centre", "status", "-registered_on", "-id"], name="candidate_list_centre_idx"
            ),
            models.Index(fields=["centre", "birth_name", "birth_date"]),
            # The staff list, newest first, with or without a status filter: the page's ids and the
            # count come from an index-only scan (centre_id is in the key for the scope filter), so a
            # page deep in 20 000 candidates costs about a millisecond; keyset pages (issue 21) read
            # 51 entries of them from the cursor, at any depth (see selectors.candidate_list_page).
            models.Index(
                fields=["status", "-registered_on", "-id", "centre"], name="candidate_list_status_idx"
            ),
            models.Index(fields=["-registered_on", "-id", "centre"], name="candidate_list_recent_idx"),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_vae(self):
        return self.pathway == Pathway.VAE

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def is_anonymised(self):
        return self.anonymised_at is not None

    @property
    def dossier_editable(self):
        """His dossier, while not validated, may be edited and validated: only at « Inscrit », never once
        anonymised (the rule of `services.update_dossier` / `validate_dossier` and of the detail page)."""
        return self.status == CandidateStatus.REGISTERED and not self.is_anonymised

    @property
    def full_name(self):
        """Display name (usage name first when there is one). Never put it in URLs, logs or audit."""
        return display_name(self.birth_name, self.usage_name, self.first_names, self.is_anonymised)


class CandidateStatusChange(models.Model):
    """Append-only history of a candidate's lifecycle (who, when, why)."""

    candidate = models.ForeignKey(
        Candidate, verbose_name=_("candidat"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(
        _("ancien statut"), max_length=30, choices=CandidateStatus.choices, blank=True
    )
    to_status = models.CharField(_("nouveau statut"), max_length=30, choices=CandidateStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Vide pour une opération automatique (commande, tâche)."),
    )
    at = models.DateTimeField(_("le"), auto_now_add=True)
    reason = models.TextField(_("motif"), blank=True, max_length=REASON_MAX)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("changement de statut")
        verbose_name_plural = _("changements de statut")
        constraints = [max_length_constraint("candidates_candidatestatuschange", "reason", REASON_MAX)]

    def __str__(self):
        return f"{self.from_status or '-'} → {self.to_status}"


class Dossier(models.Model):
    """How each competency will be evaluated. Frozen once validated (services refuse edits)."""

    candidate = models.OneToOneField(
        Candidate, verbose_name=_("candidat"), on_delete=models.CASCADE, related_name="dossier"
    )
    report_due_date = models.DateField(_("date limite de remise du rapport"), null=True, blank=True)
    company_opinion_applies = models.BooleanField(
        _("avis de l'entreprise"),
        default=False,
        help_text=_("L'avis du tuteur / de l'entreprise est recueilli (jamais en VAE)."),
    )
    validated_at = models.DateTimeField(_("validé le"), null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("validé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("dossier d'évaluation")
        verbose_name_plural = _("dossiers d'évaluation")

    def __str__(self):
        return f"Dossier {self.candidate_id}"

    @property
    def is_frozen(self):
        return self.validated_at is not None


class DossierCompetency(models.Model):
    """One competency of the candidate's CQPM version, with the chosen modalities (ModalityCode values)."""

    dossier = models.ForeignKey(
        Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="items"
    )
    competency = models.ForeignKey(
        "referential.Competency", verbose_name=_("compétence"), on_delete=models.PROTECT, related_name="+"
    )
    modalities = models.JSONField(
        _("modalités d'évaluation"), default=list, blank=True, help_text=_("Liste de codes ModalityCode.")
    )
    already_acquired = models.BooleanField(_("déjà acquise (capitalisée)"), default=False)
    acquired_on = models.DateField(
        _("acquise le"),
        null=True,
        blank=True,
        help_text=_("Date de la délibération antérieure qui l'a validée (capitalisation)."),
    )
    acquired_until = models.DateField(_("acquise jusqu'au"), null=True, blank=True)
    # Mirror of the capitalisation record that holds it (deliberations.capitalisation): the bloc's
    # number when the bloc holds it (« au titre du bloc N »), else empty (its own record).
    acquired_through_block = models.PositiveSmallIntegerField(_("au titre du bloc"), null=True, blank=True)

    class Meta:
        ordering = ["dossier", "competency__number"]
        verbose_name = _("compétence du dossier")
        verbose_name_plural = _("compétences du dossier")
        constraints = [
            models.UniqueConstraint(fields=["dossier", "competency"], name="candidates_dossier_competency"),
        ]

    def __str__(self):
        return f"{self.dossier_id} / {self.competency_id}"

    def modality_labels(self):
        return [ModalityCode(code).label for code in self.modalities if code in ModalityCode.values]


def document_upload_to(instance, filename):
    """A random, non-guessable storage path that says nothing about the candidate."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    token = secrets.token_hex(16)
    return f"candidates/documents/{token[:2]}/{token}.{extension}"


class CandidateDocument(models.Model):
    candidate = models.ForeignKey(
        Candidate, verbose_name=_("candidat"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("type de document"), max_length=20, choices=DocumentKind.choices)
    file = models.FileField(_("fichier"), upload_to=document_upload_to, max_length=255)
    original_name = models.CharField(_("nom d'origine"), max_length=255)
    content_type = models.CharField(_("type de contenu"), max_length=100)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    is_late = models.BooleanField(_("rapport remis en retard"), default=False)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("document du candidat")
        verbose_name_plural = _("documents du candidat")

    def __str__(self):
        return f"{self.get_kind_display()} {self.pk}"


# --- bulk import (issue 9) -------------------------------------------------------------------


class ImportJobStatus(models.TextChoices):
    PENDING = "pending", _("En attente de vérification")
    VALIDATING = "validating", _("Vérification en cours")
    INVALID = "invalid", _("Erreurs à corriger")
    READY = "ready", _("Prêt à importer")
    COMMITTING = "committing", _("Import en cours")
    DONE = "done", _("Importé")
    FAILED = "failed", _("Échec")


# A task is working on the job: the page polls for its progress.
IMPORT_RUNNING_STATUSES = frozenset(
    {ImportJobStatus.PENDING, ImportJobStatus.VALIDATING, ImportJobStatus.COMMITTING}
)


def import_upload_to(instance, filename):
    """A random, non-guessable storage path (the file holds personal data; never served)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    token = secrets.token_hex(16)
    return f"candidates/imports/{token[:2]}/{token}.{extension}"


class ImportJob(models.Model):
    """One uploaded CSV/XLSX file of candidates, checked then imported (all or nothing) by Celery tasks.

    The stored file is deleted once the job is finished (imported, refused or failed); the job keeps
    its SHA-256, its counts and the located error report (line, column, message — no names)."""

    centre = models.ForeignKey(
        CertificationCentre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposé par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(_("fichier"), upload_to=import_upload_to, max_length=255, blank=True)
    original_name = models.CharField(_("nom d'origine"), max_length=255)
    size = models.PositiveBigIntegerField(_("taille (octets)"), default=0)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("statut"), max_length=20, choices=ImportJobStatus.choices, default=ImportJobStatus.PENDING
    )
    rows_total = models.PositiveIntegerField(_("lignes du fichier"), default=0)
    rows_done = models.PositiveIntegerField(_("lignes traitées"), default=0)
    valid_count = models.PositiveIntegerField(_("lignes valides"), default=0)
    error_count = models.PositiveIntegerField(_("lignes en erreur"), default=0)
    duplicate_count = models.PositiveIntegerField(_("doublons"), default=0)
    imported_count = models.PositiveIntegerField(_("candidats importés"), default=0)
    errors = models.JSONField(
        _("rapport d'erreurs"),
        default=list,
        blank=True,
        help_text=_("[{line, column, message, duplicate}] : lignes et colonnes du fichier, sans nom."),
    )
    imported_ids = models.JSONField(_("candidats importés (identifiants)"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("exécutions"), default=0)
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    validated_at = models.DateTimeField(_("vérifié le"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import de candidats")
        verbose_name_plural = _("imports de candidats")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ImportJobStatus.values),
                name="candidates_importjob_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["centre", "-created_at"])]

    def __str__(self):
        return f"Import {self.pk}"

    @property
    def is_running(self):
        return self.status in IMPORT_RUNNING_STATUSES

    @property
    def percent(self):
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_done / self.rows_total))


# --- RGPD: the register of right-of-access requests (issue 22, point 5) ----------------------


class AccessChannel(models.TextChoices):
    MAIL = "mail", _("Courrier")
    EMAIL = "email", _("Courrier électronique")
    IN_PERSON = "in_person", _("Sur place")
    ONLINE = "online", _("Espace candidat")
    OTHER = "other", _("Autre")


class AccessRequestKind(models.TextChoices):
    ACCESS = "access", _("Accès aux données (art. 15)")
    RECTIFICATION = "rectification", _("Rectification des données (art. 16)")


class AccessRequest(models.Model):
    """A request of access to personal data (RGPD art. 15) about a candidate: who asked, when, how
    the identity was verified, the deadline (one month, art. 12.3), the answer produced (the
    candidate's personal-data export, its SHA-256) and when it was sent. Overdue requests show on
    the staff dashboard."""

    candidate = models.ForeignKey(
        Candidate, verbose_name=_("candidat"), on_delete=models.CASCADE, related_name="access_requests"
    )
    kind = models.CharField(
        _("nature de la demande"),
        max_length=20,
        choices=AccessRequestKind.choices,
        default=AccessRequestKind.ACCESS,
    )
    details = models.TextField(
        _("données à corriger"),
        max_length=REASON_MAX,
        blank=True,
        help_text=_("Pour une demande de rectification : ce que le candidat demande de corriger."),
    )
    requester = models.CharField(
        _("demandeur"), max_length=200, help_text=_("Le candidat lui-même, ou la personne qui le représente.")
    )
    received_on = models.DateField(_("reçue le"))
    channel = models.CharField(_("reçue par"), max_length=20, choices=AccessChannel.choices)
    identity_check = models.CharField(
        _("vérification de l'identité"),
        max_length=500,
        help_text=_("Comment l'identité du demandeur a été vérifiée (pièce présentée, question, etc.)."),
    )
    due_on = models.DateField(_("réponse due au plus tard le"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistrée par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)
    answer_produced_at = models.DateTimeField(_("réponse produite le"), null=True, blank=True)
    answer_produced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("réponse produite par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answer_sha256 = models.CharField(_("empreinte SHA-256 de la réponse"), max_length=64, blank=True)
    sent_on = models.DateField(_("réponse envoyée le"), null=True, blank=True)
    sent_channel = models.CharField(
        _("envoyée par"), max_length=20, choices=AccessChannel.choices, blank=True
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("envoi enregistré par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("demande d'accès (RGPD)")
        verbose_name_plural = _("demandes d'accès (RGPD)")
        indexes = [models.Index(fields=["sent_on", "due_on"], name="candidates_access_open_due")]
        constraints = [max_length_constraint("candidates_accessrequest", "details", REASON_MAX)]

    def __str__(self):
        return f"{self.candidate_id} / {self.received_on}"

    def is_overdue(self, today):
        return self.sent_on is None and today > self.due_on
