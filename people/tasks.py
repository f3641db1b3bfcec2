"""Tasks of « Personnes »: ids in, idempotent."""

import re

from celery import shared_task

from core.models import Notification, NotificationStatus

# The set-password link of an account invitation: /compte/invitation/<uid>/<token>/
INVITATION_LINK = re.compile(r"/compte/invitation/[A-Za-z0-9_-]+/[A-Za-z0-9-]+/")
REDACTED = "/compte/invitation/lien-personnel-masque/"


def _redact(notification):
    body_text = INVITATION_LINK.sub(REDACTED, notification.body_text)
    body_html = INVITATION_LINK.sub(REDACTED, notification.body_html)
    if (body_text, body_html) != (notification.body_text, notification.body_html):
        Notification.objects.filter(pk=notification.pk).update(body_text=body_text, body_html=body_html)
        return True
    return False


@shared_task
def redact_invitation_email(notification_id):
    """Once the invitation e-mail has been sent, the outbox keeps it without its usable link (the person
    reads his copy on « Mes messages » after logging in; the link itself is in his mailbox only)."""
    notification = Notification.objects.filter(pk=notification_id, status=NotificationStatus.SENT).first()
    return bool(notification and _redact(notification))


@shared_task
def redact_sent_invitation_links():
    """Periodic sweep: the invitations a worker sent after `redact_invitation_email` had run."""
    count = 0
    for notification in Notification.objects.filter(
        status=NotificationStatus.SENT, kind="people.invitation", body_text__contains="/compte/invitation/"
    ).exclude(body_text__contains=REDACTED):
        count += _redact(notification)
    return count
