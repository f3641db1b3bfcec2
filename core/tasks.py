from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from .models import Notification, NotificationStatus, WorkerProbe


@shared_task(bind=True, max_retries=5, default_retry_delay=30)
def send_notification(self, notification_id):
    """Send one outbox email. Idempotent: an already sent notification is not sent again."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.status == NotificationStatus.SENT:
        return notification_id
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.to_email],
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    try:
        message.send()
    except OSError as exc:  # SMTP server unreachable: transient
        Notification.objects.filter(pk=notification_id).update(error=str(exc)[:500])
        if self.request.retries >= self.max_retries:
            Notification.objects.filter(pk=notification_id).update(status=NotificationStatus.FAILED)
            return notification_id
        raise self.retry(exc=exc) from exc
    Notification.objects.filter(pk=notification_id).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), error=""
    )
    return notification_id


@shared_task
def probe(token):
    """Write a row: used by the tests and /healthz?deep=1 to prove a real worker reaches the database."""
    WorkerProbe.objects.get_or_create(token=token)
    return token


@shared_task
def requeue_stuck_notifications():
    """Every 15 minutes (Celery beat): queue again the emails a broker outage left `queued`."""
    # core.notifications → core.services → core.tasks (queue_email queues send_notification).
    from .notifications import requeue_stuck_notifications as requeue  # noqa: PLC0415 — cycle above

    return requeue()
