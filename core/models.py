from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STAFF = "staff", _("Personnel du centre")
    EVALUATOR = "evaluator", _("Évaluateur")
    TUTOR = "tutor", _("Tuteur d'entreprise")
    JURY = "jury", _("Membre de jury")
    CANDIDATE = "candidate", _("Candidat")


class CertificationCentre(models.Model):
    """A UIMM territoriale acting as certification centre: the tenant of the product."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    legal_name = models.CharField(_("raison sociale"), max_length=200, blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=100, blank=True)
    certifier_signatory = models.CharField(
        _("signataire habilité"),
        max_length=200,
        blank=True,
        help_text=_("Personne habilitée à signer les parchemins pour le certificateur."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("centre de certification")
        verbose_name_plural = _("centres de certification")

    def __str__(self):
        return self.name


def person_name(first_name, last_name, username):
    """A user's name as the pages show it (str(User)): « first last », else the login; "" without a
    user (username None). For rows read as values, which carry no User instance."""
    if username is None:
        return ""
    return f"{first_name or ''} {last_name or ''}".strip() or username


def pop_person_name(row, relation):
    """person_name of a value row's user read as `relation__first_name`, `relation__last_name`,
    `relation__username`: the three columns taken out of the row."""
    return person_name(
        *(row.pop(f"{relation}__{field}") for field in ("first_name", "last_name", "username"))
    )


class User(AbstractUser):
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, default=Role.STAFF)
    centres = models.ManyToManyField(
        CertificationCentre, verbose_name=_("centres"), related_name="users", blank=True
    )
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    # Raised when the second factor is enrolled or removed: every session opened before no longer
    # authenticates (see get_session_auth_hash); a password change does the same through the password.
    session_generation = models.PositiveIntegerField(_("génération des sessions"), default=0, editable=False)

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    def __str__(self):
        return person_name(self.first_name, self.last_name, self.username)

    def _get_session_auth_hash(self, secret=None):
        # Django checks this hash of the session against the user's at every request: mixing in the
        # generation ends the sessions opened before it changed (generation 0: Django's own hash).
        base = super()._get_session_auth_hash(secret=secret)
        if not self.session_generation:
            return base

        return salted_hmac(
            "core.User.session_generation",
            f"{base}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def is_centre_staff(self):
        return self.is_active and (self.is_superuser or self.role == Role.STAFF)

    @property
    def is_evaluator(self):
        return self.is_active and self.role == Role.EVALUATOR

    @property
    def is_tutor(self):
        return self.is_active and self.role == Role.TUTOR

    @property
    def is_jury_member(self):
        return self.is_active and self.role == Role.JURY

    @property
    def is_candidate(self):
        """A candidate's own account (issue 23): sees only his own dossier, created by staff."""
        return self.is_active and self.role == Role.CANDIDATE

    def centre_ids(self):
        """Ids of the centres this user works for (cached per instance: used by every selector)."""
        if not hasattr(self, "_centre_ids_cache"):
            if self.is_superuser:
                self._centre_ids_cache = frozenset(CertificationCentre.objects.values_list("id", flat=True))
            else:
                self._centre_ids_cache = frozenset(self.centres.values_list("id", flat=True))
        return self._centre_ids_cache


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    """Bulk changes are refused too (deleting a user or centre still nulls the FK: Django's collector
    goes through the plain base manager)."""

    def update(self, **kwargs):
        raise AppendOnlyError("Le journal d'audit ne peut pas être modifié.")

    def delete(self):
        raise AppendOnlyError("Le journal d'audit ne peut pas être supprimé.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Le journal d'audit ne peut pas être modifié.")


class AuditEvent(models.Model):
    """Append-only journal of security-relevant and business events (never updated or deleted)."""

    created_at = models.DateTimeField(_("date"), auto_now_add=True)
    actor = models.ForeignKey(
        User, verbose_name=_("auteur"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    centre = models.ForeignKey(
        CertificationCentre,
        verbose_name=_("centre"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=80, db_index=True)
    target_type = models.CharField(_("type d'objet"), max_length=80, blank=True)
    target_id = models.CharField(_("identifiant"), max_length=64, blank=True)
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(_("données"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("événement du journal")
        verbose_name_plural = _("journal d'audit")
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            # The journal page reads by keyset, newest first (core.audit.journal_page): every page,
            # however old, is a short scan of one of these (issue 21: millions of events).
            models.Index(fields=["created_at", "id"], name="audit_recent_idx"),
            models.Index(fields=["centre", "created_at", "id"], name="audit_centre_recent_idx"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Le journal d'audit ne peut pas être modifié.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Le journal d'audit ne peut pas être supprimé.")


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("En file d'attente")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")


class Notification(models.Model):
    """Outbox row for an email (and the in-app copy the recipient can read)."""

    recipient = models.ForeignKey(
        User,
        verbose_name=_("destinataire"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    to_email = models.EmailField(_("adresse"))
    subject = models.CharField(_("objet"), max_length=255)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("HTML"), blank=True)
    kind = models.CharField(_("type"), max_length=50, db_index=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED
    )
    dedup_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    # Set when the recipient's « Mes messages » page showed it: unset, the message is « nouveau ».
    read_at = models.DateTimeField(_("lu le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.subject


class WorkerProbe(models.Model):
    """Rows written by the `core.tasks.probe` task: proof that a worker reaches the database."""

    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.token
