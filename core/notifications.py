"""Notifications the apps do not send themselves: evaluator assignment, scoring reminders, result
letter available; and the sweep that re-queues emails a broker outage left behind.

The apps send their own emails (convocations, tutor invitations and opinion reminders in
`evaluations`, jury convocations in `deliberations`). The three notifications here are attached by
`connect()` (called from CoreConfig.ready) to the moment the fact is recorded:
- a `ConvocationEvaluator` row is created (evaluations.services.convene_candidate / assign_evaluator);
- a result letter (`GeneratedDocument`, kind « letter ») becomes the current, finished file.
The email row is written in the same transaction as the fact (outbox), and `core.services.queue_email`
hands it to the worker once the transaction commits. Each email has a dedup key, so a retried
service or task never sends it twice. All texts are French (templates/emails/core_*.txt|html).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .dates import long_date
from .models import Notification, NotificationStatus
from .services import queue_email, safe_delay

logger = logging.getLogger(__name__)

KIND_LABELS = {
    "evaluations.convocation": gettext_lazy("Convocation à une évaluation"),
    "evaluations.tutor_invitation": gettext_lazy("Invitation à donner l'avis de l'entreprise"),
    "evaluations.opinion_reminder": gettext_lazy("Rappel : avis de l'entreprise"),
    "deliberations.convocation": gettext_lazy("Convocation au jury"),
    "core.evaluator_assignment": gettext_lazy("Affectation d'un candidat à évaluer"),
    "core.scoring_reminder": gettext_lazy("Rappel : fiches d'évaluation à soumettre"),
    "core.result_letter": gettext_lazy("Lettre de résultat disponible"),
}


def kind_label(kind):
    return KIND_LABELS.get(kind, gettext_lazy("Message"))


def absolute_url(name, *args):
    return f"{settings.SITE_URL}{reverse(name, args=args)}"


def scoring_deadline(session_date):
    from .dashboards import scoring_deadline as deadline

    return deadline(session_date)


# --- evaluator assignment -------------------------------------------------------------------------


def notify_evaluator_assignment(assignment):
    """Tell an evaluator a candidate was assigned to him (reference, CQPM, date, slot, place)."""
    evaluator = assignment.evaluator
    if not evaluator.email or not evaluator.is_active:
        return None
    convocation = assignment.convocation
    session = convocation.session
    candidate = convocation.candidate
    return queue_email(
        to_email=evaluator.email,
        subject=_("Nouveau candidat à évaluer le %(date)s") % {"date": long_date(session.date)},
        template="core_evaluator_assignment",
        context={
            "recipient_name": evaluator.get_full_name() or evaluator.username,
            "centre_name": session.centre.name,
            "reference": candidate.reference,
            "certification": candidate.certification,
            "session": session,
            "time_slot": convocation.time_slot,
            "deadline": scoring_deadline(session.date),
            "action_url": absolute_url("evaluations:to_score"),
            "action_label": _("Voir mes candidats à évaluer"),
        },
        recipient=evaluator,
        kind="core.evaluator_assignment",
        dedup_key=f"core:evaluator-assignment:{assignment.pk}",
    )


def _on_assignment_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    from evaluations.models import ConvocationEvaluator

    assignment = (
        ConvocationEvaluator.objects.select_related(
            "evaluator", "convocation__session__centre", "convocation__candidate__certification"
        )
        .filter(pk=instance.pk)
        .first()
    )
    if assignment is not None:
        notify_evaluator_assignment(assignment)


# --- scoring reminders ----------------------------------------------------------------------------


def reminder_interval():
    return max(1, int(settings.CQPM.get("SCORING_REMINDER_INTERVAL_DAYS", 3)))


def send_scoring_reminders(today=None):
    """One digest per evaluator who still has draft sheets for an evaluation that has taken place.

    Sent at most once every SCORING_REMINDER_INTERVAL_DAYS days (the dedup key holds the interval
    number), so the daily beat run is idempotent. Returns the number of emails queued.
    """
    from evaluations.models import ScoringSheet, SheetStatus

    today = today or timezone.localdate()
    sheets = (
        ScoringSheet.objects.filter(
            status=SheetStatus.DRAFT,
            convocation__session__date__lte=today,
            candidate__anonymised_at__isnull=True,
            evaluator__is_active=True,
        )
        .exclude(evaluator__email="")
        .select_related("evaluator", "candidate", "convocation__session__centre")
        .order_by("evaluator_id", "convocation__session__date", "candidate__reference")
    )
    by_evaluator = {}
    for sheet in sheets:
        entry = by_evaluator.setdefault(sheet.evaluator_id, {"evaluator": sheet.evaluator, "candidates": {}})
        session = sheet.convocation.session
        row = entry["candidates"].setdefault(
            sheet.candidate_id,
            {
                "reference": sheet.candidate.reference,
                "session_date": session.date,
                "deadline": scoring_deadline(session.date),
                "centre_name": session.centre.name,
                "pending": 0,
            },
        )
        row["pending"] += 1
    bucket = today.toordinal() // reminder_interval()
    queued = 0
    for evaluator_id, entry in by_evaluator.items():
        dedup_key = f"core:scoring-reminder:{evaluator_id}:{bucket}"
        if Notification.objects.filter(dedup_key=dedup_key).exists():
            continue
        evaluator = entry["evaluator"]
        rows = sorted(entry["candidates"].values(), key=lambda r: (r["deadline"], r["reference"]))
        for row in rows:
            row["overdue"] = row["deadline"] < today
        queue_email(
            to_email=evaluator.email,
            subject=_("Rappel : fiches d'évaluation à soumettre"),
            template="core_scoring_reminder",
            context={
                "recipient_name": evaluator.get_full_name() or evaluator.username,
                "centre_name": rows[0]["centre_name"],
                "rows": rows,
                "pending_total": sum(r["pending"] for r in rows),
                "action_url": absolute_url("evaluations:to_score"),
                "action_label": _("Compléter mes fiches"),
            },
            recipient=evaluator,
            kind="core.scoring_reminder",
            dedup_key=dedup_key,
        )
        queued += 1
    return queued


# --- result letter available ----------------------------------------------------------------------


def notify_result_letter_available(document):
    """Tell the candidate the jury's result letter has been issued (the result itself is not in the
    email: the letter, sent by the centre, is the official notice)."""
    candidate = document.candidate
    if candidate is None or not candidate.email or candidate.anonymised_at is not None:
        return None
    session = document.session
    centre = session.centre
    return queue_email(
        to_email=candidate.email,
        subject=_("Votre lettre de résultat CQPM est disponible"),
        template="core_result_letter_available",
        context={
            "recipient_name": candidate.full_name,
            "centre_name": centre.name,
            "centre": centre,
            "certification": candidate.certification,
            "session": session,
            "number": document.number,
            "reference": candidate.reference,
            "is_amended": document.version > 1,
        },
        recipient=None,
        kind="core.result_letter",
        dedup_key=f"core:result-letter:{document.pk}",
    )


def _on_document_saved(sender, instance, created, raw=False, **kwargs):
    from deliberations.models import DocumentKind, DocumentStatus

    if raw or instance.kind != DocumentKind.LETTER:
        return
    if instance.status != DocumentStatus.DONE or not instance.is_current or instance.candidate_id is None:
        return
    from deliberations.models import GeneratedDocument

    document = (
        GeneratedDocument.objects.select_related(
            "candidate__certification", "session__centre", "session__certification"
        )
        .filter(pk=instance.pk)
        .first()
    )
    if document is not None:
        notify_result_letter_available(document)


# --- outbox sweep ---------------------------------------------------------------------------------


def requeue_stuck_notifications(older_than=timedelta(minutes=10)):
    """Queue again the emails still `queued` after a while (broker down when they were created)."""
    from .tasks import send_notification

    limit = timezone.now() - older_than
    ids = list(
        Notification.objects.filter(status=NotificationStatus.QUEUED, created_at__lt=limit)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for notification_id in ids:
        safe_delay(send_notification, notification_id)
    return len(ids)


# --- wiring ---------------------------------------------------------------------------------------


def connect():
    from django.apps import apps

    try:
        assignment_model = apps.get_model("evaluations", "ConvocationEvaluator")
        document_model = apps.get_model("deliberations", "GeneratedDocument")
    except LookupError:  # pragma: no cover - both apps are always installed
        return
    post_save.connect(_on_assignment_saved, sender=assignment_model, dispatch_uid="core-evaluator-assignment")
    post_save.connect(_on_document_saved, sender=document_model, dispatch_uid="core-result-letter")
