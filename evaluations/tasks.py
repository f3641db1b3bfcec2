"""Celery tasks of the evaluations app: they take ids and are idempotent."""

import datetime
import hashlib
import logging
import re

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.models import Candidate, CandidateStatus
from core.models import Notification, NotificationStatus
from core.services import queue_email

from . import notifications
from .models import CompanyOpinion, Convocation
from .services.opinions import send_opinion_reminder

logger = logging.getLogger(__name__)

# /evaluations/invitation/<token>/ in a stored email body → the token is replaced once sent.
INVITATION_LINK = re.compile(r"(/evaluations/invitation/)[A-Za-z0-9_\-]+/")
REDACTED = r"\1lien-personnel-masque/"


@shared_task
def send_convocation_email(convocation_id, nonce=""):
    """Email the convocation to the candidate: one email per date, place, slot (and explicit resend
    `nonce`), so a retried task sends nothing more."""

    convocation = (
        Convocation.objects.select_related("candidate__centre", "candidate__certification", "session__centre")
        .filter(pk=convocation_id)
        .first()
    )
    if convocation is None:
        return None
    candidate = convocation.candidate
    session = convocation.session
    if not candidate.email or candidate.is_anonymised:
        logger.info("Convocation %s: no address, nothing sent", convocation_id)
        return None
    key = f"{session.date.isoformat()}:{convocation.time_slot.isoformat()}:{session.is_remote}:{session.place}:{nonce}"
    notification = queue_email(
        to_email=candidate.email,
        subject=_("Convocation à votre évaluation CQPM"),
        template="evaluations_convocation",
        context={
            "recipient_name": candidate.full_name,
            "centre_name": session.centre.name,
            "centre": session.centre,
            "certification": candidate.certification,
            "session": session,
            "convocation": convocation,
            "reference": candidate.reference,
        },
        kind="evaluations.convocation",
        dedup_key=f"evaluations:convocation:{convocation.pk}:{_stable_digest(key)}",
    )
    Convocation.objects.filter(pk=convocation.pk).update(convened_at=timezone.now())
    return notification.pk


def _stable_digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _redact(notification):
    body_text = INVITATION_LINK.sub(REDACTED, notification.body_text)
    body_html = INVITATION_LINK.sub(REDACTED, notification.body_html)
    if (body_text, body_html) != (notification.body_text, notification.body_html):
        Notification.objects.filter(pk=notification.pk).update(body_text=body_text, body_html=body_html)
        return True
    return False


@shared_task
def redact_invitation_email(notification_id):
    """Remove the invitation token from an outbox email once it has been sent (only its hash is kept)."""
    notification = Notification.objects.filter(pk=notification_id, status=NotificationStatus.SENT).first()
    return bool(notification and _redact(notification))


@shared_task
def redact_sent_invitation_links():
    """Periodic sweep: the emails sent by a worker after `redact_invitation_email` ran."""
    count = 0
    for notification in Notification.objects.filter(
        status=NotificationStatus.SENT, body_text__contains="/evaluations/invitation/"
    ).exclude(body_text__contains="/evaluations/invitation/lien-personnel-masque/"):
        count += _redact(notification)
    return count


def reminder_days():
    """Days before the opinion's due date on which the tutor is reminded (0 = the day itself)."""
    return tuple(settings.CQPM.get("OPINION_REMINDER_DAYS", (7, 2, 0)))


@shared_task
def send_opinion_reminders(today=None):
    """Daily: remind tutors whose company opinion is not signed, N days before the due date (and once
    a week when overdue). Idempotent: each reminder has a dedup key (candidate, due date, day)."""

    today = datetime.date.fromisoformat(today) if isinstance(today, str) else (today or timezone.localdate())
    days = reminder_days()
    horizon = today + datetime.timedelta(days=max(days or (0,)))
    candidate_ids = (
        CompanyOpinion.objects.filter(signed_at__isnull=True, due_date__isnull=False, due_date__lte=horizon)
        .values_list("candidate_id", flat=True)
        .distinct()
    )
    sent = 0
    for candidate in Candidate.objects.filter(
        pk__in=list(candidate_ids),
        anonymised_at__isnull=True,
        status__in=[CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION],
    ).select_related("tutor__user", "centre"):
        due_dates = CompanyOpinion.objects.filter(
            candidate=candidate, signed_at__isnull=True, due_date__isnull=False
        ).values_list("due_date", flat=True)
        due_date = min(due_dates)
        days_left = (due_date - today).days
        due = days_left in days or (days_left < 0 and -days_left % 7 == 0)
        if due and send_opinion_reminder(candidate=candidate, days_left=days_left) is not None:
            sent += 1
    return sent


@shared_task
def send_scoring_reminders():
    """Daily (Celery beat): remind evaluators of their draft sheets. Idempotent (dedup keys)."""
    return notifications.send_scoring_reminders()
