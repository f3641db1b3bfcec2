"""E-mails of the evaluations app that no page sends by itself: the evaluator's assignment (sent by
the services that assign him, `convene_candidate` and `assign_evaluator`) and the scoring reminders
(daily, Celery beat: `evaluations.tasks.send_scoring_reminders`).

The e-mail row is written in the same transaction as the fact (outbox), and `core.services.queue_email`
hands it to the worker once the transaction commits. Each e-mail has a dedup key, so a retried
service or task never sends it twice. The kinds and keys keep their historical `core.` names (rows
already stored carry them). All texts are French (templates/emails/core_*.txt|html).
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import long_date
from core.models import Notification
from core.notifications import absolute_url
from core.services import queue_email

from .models import ConvocationEvaluator, ScoringSheet, SheetStatus


def scoring_deadline(session_date):
    """Sheets are submitted within settings.CQPM["SCORING_DEADLINE_DAYS"] days after the evaluation."""
    return session_date + timedelta(days=settings.CQPM.get("SCORING_DEADLINE_DAYS", 7))


# --- evaluator assignment -------------------------------------------------------------------------


def notify_evaluator_assignment(assignment):
    """Tell an evaluator a candidate was assigned to him (reference, CQPM, date, slot, place)."""
    assignment = (
        ConvocationEvaluator.objects.select_related(
            "evaluator", "convocation__session__centre", "convocation__candidate__certification"
        )
        .filter(pk=assignment.pk)
        .first()
    )
    if assignment is None:
        return None
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


# --- scoring reminders ----------------------------------------------------------------------------


def reminder_interval():
    return max(1, int(settings.CQPM.get("SCORING_REMINDER_INTERVAL_DAYS", 3)))


def send_scoring_reminders(today=None):
    """One digest per evaluator who still has draft sheets for an evaluation that has taken place.

    Sent at most once every SCORING_REMINDER_INTERVAL_DAYS days (the dedup key holds the interval
    number), so the daily beat run is idempotent. Returns the number of emails queued.
    """
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
