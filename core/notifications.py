"""Core's side of the notifications: the labels of every kind of e-mail on « Mes messages », the
home page's « Nouveaux messages » widget, and the sweep that re-queues e-mails a broker outage left
behind.

Each app sends its own e-mails from the services that cause them (issue 20: `core` imports no domain
app): convocations, tutor invitations, opinion reminders, the evaluator's assignment and the scoring
reminders in `evaluations` (`evaluations.notifications`), jury convocations and « lettre de résultat
disponible » in `deliberations` (`deliberations.notifications`). All go through
`core.services.queue_email` (outbox row in the fact's transaction, dedup key, queued on commit).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Notification, NotificationStatus
from .services import safe_delay
from .tasks import send_notification
from .widgets import ITEM_LIMIT, Item, Widget, register_widget

logger = logging.getLogger(__name__)

KIND_LABELS = {
    "evaluations.convocation": gettext_lazy("Convocation à une évaluation"),
    "evaluations.tutor_invitation": gettext_lazy("Invitation à donner l'avis de l'entreprise"),
    "evaluations.opinion_reminder": gettext_lazy("Rappel : avis de l'entreprise"),
    "deliberations.convocation": gettext_lazy("Convocation au jury"),
    "core.evaluator_assignment": gettext_lazy("Affectation d'un candidat à évaluer"),
    "core.scoring_reminder": gettext_lazy("Rappel : fiches d'évaluation à soumettre"),
    "core.result_letter": gettext_lazy("Lettre de résultat disponible"),
    "candidates.upload_receipt": gettext_lazy("Accusé de réception d'un dépôt"),
    "deliberations.appeal_filed": gettext_lazy("Accusé de réception d'un recours"),
    "deliberations.appeal_answered": gettext_lazy("Réponse à un recours"),
}


def kind_label(kind):
    return KIND_LABELS.get(kind, gettext_lazy("Message"))


def absolute_url(name, *args):
    return f"{settings.SITE_URL}{reverse(name, args=args)}"


# --- the home page's « Nouveaux messages » widget ----------------------------------------------------


@register_widget(key="new_messages", order=1000)
def new_messages(user, today=None):
    """The messages the user has not seen on « Mes messages » yet, newest first (one query: the
    total comes with the rows, counted before the limit). Shown only when there is something new."""
    rows = list(
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .annotate(total=Window(Count("id")))
        .order_by("-created_at", "-id")
        .values_list("subject", "kind", "created_at", "total")[:ITEM_LIMIT]
    )
    if not rows:
        return None
    url = reverse("core:notifications")
    return Widget(
        key="new_messages",
        title=_("Nouveaux messages"),
        count=rows[0][3],
        items=[
            Item(
                label=subject,
                url=url,
                detail=f"{kind_label(kind)} · {timezone.localtime(created_at):%d/%m/%Y %H:%M}",
            )
            for subject, kind, created_at, _total in rows
        ],
        more_url=url,
        more_label=_("Lire mes messages"),
    )


# --- outbox sweep ---------------------------------------------------------------------------------


def requeue_stuck_notifications(older_than=timedelta(minutes=10)):
    """Queue again the emails still `queued` after a while (broker down when they were created)."""
    limit = timezone.now() - older_than
    ids = list(
        Notification.objects.filter(status=NotificationStatus.QUEUED, created_at__lt=limit)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for notification_id in ids:
        safe_delay(send_notification, notification_id)
    return len(ids)
