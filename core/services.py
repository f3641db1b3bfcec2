"""Platform services: the audit journal and the email outbox."""

import logging

from django.db import transaction
from django.template.loader import render_to_string

from .models import AuditEvent, Notification

logger = logging.getLogger(__name__)


def audit(*, actor=None, action, target=None, centre=None, message="", ip_address=None, **data):
    """Append one event to the audit journal. Pass ids, never personal data, in `message`/`data`."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target_type = target_id = ""
    if target is not None:
        target_type = f"{target._meta.app_label}.{target._meta.model_name}"
        target_id = str(target.pk)
        if centre is None:
            centre = getattr(target, "centre", None)
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        centre=centre,
        message=message,
        data=data,
        ip_address=ip_address,
    )


def queue_email(*, to_email, subject, template, context=None, recipient=None, kind, dedup_key=None):
    """Render an email from templates/emails/<template>.txt|.html, store it in the outbox and send it
    from a worker once the surrounding transaction commits.

    A `dedup_key` makes the call idempotent: a retried service never sends the same email twice.
    """
    if dedup_key:
        existing = Notification.objects.filter(dedup_key=dedup_key).first()
        if existing:
            return existing
    context = {**(context or {}), "subject": subject}
    body_text = render_to_string(f"emails/{template}.txt", context)
    try:
        body_html = render_to_string(f"emails/{template}.html", context)
    except Exception:  # noqa: BLE001 - the HTML part is optional
        body_html = ""
    notification = Notification.objects.create(
        recipient=recipient,
        to_email=to_email,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        kind=kind,
        dedup_key=dedup_key,
    )
    from .tasks import send_notification

    transaction.on_commit(lambda: safe_delay(send_notification, notification.pk))
    return notification


def safe_delay(task, *args, **kwargs):
    """Queue a task; if the broker is down, log it and leave the row queued (a retry can pick it up)."""
    try:
        return task.delay(*args, **kwargs)
    except Exception:  # noqa: BLE001 - broker outage must not turn a saved change into a 500
        logger.exception("Could not queue task %s", task.name)
        return None
