"""Platform services: the audit journal and the email outbox."""

import logging

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from .auth import client_ip
from .models import AuditEvent, Notification
from .ratelimit import count_in_window
from .tasks import send_notification

logger = logging.getLogger(__name__)


def audit(*, actor=None, action, target=None, centre=None, message="", ip_address=None, **data):
    """Append one event to the audit journal. Pass ids, never personal data, in `message`/`data`."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target_type = target_id = ""
    if target is not None:
        target_type = f"{target._meta.app_label}.{target._meta.model_name}"
        target_id = str(target.pk)
    centre_id = centre.pk if centre is not None else (centre_id_of(target) if target is not None else None)
    if centre_id is None and actor is not None:
        # No centre from the target: the event belongs to the actor's centre when he has only one.
        home = home_centre(actor)
        centre_id = home.pk if home is not None else None
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        centre_id=centre_id,
        message=message,
        data=data,
        ip_address=ip_address,
    )


# Events a scan produces (ids tried outside one's scope, codes tried while throttled): at most
# SCAN_EVENTS_LIMIT per account and action in SCAN_EVENTS_WINDOW seconds reach the journal; the first one
# past the limit is replaced by one `audit.flood_suppressed` event, the next ones are dropped until the
# window ends. The journal page alerts on the accounts that produce many (core.audit.suspicious_accounts).
SCAN_EVENTS_LIMIT = 20
SCAN_EVENTS_WINDOW = 600


def audit_rate_limited(*, actor, action, **kwargs):
    """`audit(...)` for the events a scan can repeat, limited per account (see SCAN_EVENTS_LIMIT)."""

    key = f"audit-scan:{action}:{getattr(actor, 'pk', None) or kwargs.get('ip_address')}"
    count = count_in_window(key, SCAN_EVENTS_WINDOW)
    if count <= SCAN_EVENTS_LIMIT:
        return audit(actor=actor, action=action, **kwargs)
    if count == SCAN_EVENTS_LIMIT + 1:
        return audit(
            actor=actor,
            action="audit.flood_suppressed",
            centre=kwargs.get("centre"),
            ip_address=kwargs.get("ip_address"),
            suppressed_action=action,
            limit=SCAN_EVENTS_LIMIT,
            window_seconds=SCAN_EVENTS_WINDOW,
        )
    return None


def home_centre(user):
    """The centre an event about this user belongs to: his only centre, else none (superusers only).

    Staff read the events of their centres; a user working for several centres (or a superuser) has no
    single one, so his events without another centre stay in the superusers' view.
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.is_superuser:
        return None
    centres = list(user.centres.all()[:2])
    return centres[0] if len(centres) == 1 else None


# Foreign keys followed (in this order) to find the centre an object belongs to, when it has no
# `centre` of its own: a document → its candidate → centre, a sheet → its candidate, a PV → its session…
_CENTRE_PATHS = ("candidate", "session", "commission", "jury", "dossier", "company", "sheet", "tutor")


def centre_id_of(obj, depth=3):
    """The id of the certification centre `obj` belongs to, or None (then only superusers see its events)."""
    if obj is None or depth < 0:
        return None
    field_names = {field.name for field in obj._meta.concrete_fields}
    if "centre" in field_names:
        return getattr(obj, "centre_id", None)
    declared = getattr(type(obj), "centre", None)
    if isinstance(declared, property | cached_property):  # a model that says where its centre is
        centre = getattr(obj, "centre", None)
        return getattr(centre, "pk", None)
    for name in _CENTRE_PATHS:
        if name in field_names and getattr(obj, f"{name}_id", None) is not None:
            found = centre_id_of(getattr(obj, name), depth - 1)
            if found is not None:
                return found
    return None


def audit_download(request, obj, **data):
    """Record that the requesting user downloaded the file of `obj` (a document, a PV, an export…).

    Call it in the download view after the permission check, just before returning the file.
    """

    return audit(
        actor=request.user,
        action="document.downloaded",
        target=obj,
        ip_address=client_ip(request),
        **data,
    )


def mark_messages_read(*, user, ids):
    """The recipient saw these messages (« Mes messages »): they are no longer new. Only his own, only
    once (the first reading time is kept). Not audited: reading one's messages changes no record."""
    return Notification.objects.filter(recipient=user, pk__in=list(ids), read_at__isnull=True).update(
        read_at=timezone.now()
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
    # Every e-mail about an account says its login (the base template's footer, unless the message
    # already gives it as `login`).
    if recipient is not None:
        context.setdefault("account_login", recipient.get_username())
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

    transaction.on_commit(lambda: safe_delay(send_notification, notification.pk))
    return notification


def safe_delay(task, *args, **kwargs):
    """Queue a task; if the broker is down, log it and leave the row queued (a retry can pick it up)."""
    try:
        return task.delay(*args, **kwargs)
    except Exception:  # noqa: BLE001 - broker outage must not turn a saved change into a 500
        logger.exception("Could not queue task %s", task.name)
        return None


EMAIL_CHANGED_KIND = "email_changed"


def notify_email_changed(*, old_email, subject_label, recipient_name="", centre_name=""):
    """Tell the previous address that it was replaced (an account or a tutor's record): whoever changed
    it, the owner learns it at the address he still reads. Queued after commit; nothing if it was empty."""

    if not (old_email or "").strip():
        return None
    return queue_email(
        to_email=old_email,
        subject=_("Votre adresse électronique a été modifiée"),
        template="core_email_changed",
        context={
            "subject_label": subject_label,
            "recipient_name": recipient_name,
            "centre_name": centre_name,
        },
        kind=EMAIL_CHANGED_KIND,
    )


def identity_changes(before, after, fields):
    """{field: [old, new]} of the identity fields that changed: what an audit event of a change of
    identity records (so that a hijacked address can be traced and restored)."""
    return {
        field: [before.get(field, ""), after.get(field, "")]
        for field in fields
        if before.get(field, "") != after.get(field, "")
    }
