"""Reading the audit journal: who may see which events, the filters and the export of the list page."""

import datetime
import json
from dataclasses import dataclass

import django_filters
from django import forms
from django.apps import apps
from django.core.cache import cache
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit_labels import APP_ACTION_LABELS, DATA_LABELS, NAME_FIELDS, TARGETS, VALUE_CODES, VALUE_LABELS
from .models import AuditEvent, Role, User

# French labels of the platform's own events; events of the apps show their code (e.g. "candidate.updated").
ACTION_LABELS = {
    "login": _("Connexion"),
    "logout": _("Déconnexion"),
    "login_failed": _("Échec de connexion"),
    "login_locked_out": _("Compte bloqué après des échecs de connexion"),
    "permission_denied": _("Accès refusé"),
    "otp_enrolled": _("Double authentification activée"),
    "otp_disabled": _("Double authentification désactivée"),
    "otp_verified": _("Code de double authentification accepté"),
    "otp_failed": _("Code de double authentification refusé"),
    "otp_throttled": _("Code de double authentification tenté pendant le blocage"),
    "object_not_found": _("Objet introuvable ou hors de votre périmètre"),
    "audit.flood_suppressed": _("Événements répétés non journalisés (limite atteinte)"),
    "user.identity_changed": _("Identité d'un compte modifiée"),
    "document.downloaded": _("Document téléchargé"),
    "audit.exported": _("Journal d'audit exporté"),
    "list.exported": _("Liste exportée"),
    # « Personnes » (people app): named here like the platform's own events.
    "people.account_created": _("Compte créé"),
    "people.account_updated": _("Compte modifié"),
    "people.account_deactivated": _("Compte désactivé"),
    "people.account_reactivated": _("Compte réactivé"),
    "people.invitation_sent": _("Invitation envoyée (lien pour choisir le mot de passe)"),
    "people.invitation_used": _("Mot de passe choisi par le lien d'invitation"),
}


# The journal page alerts on an account that produced at least ALERT_THRESHOLD of these events in the
# last ALERT_HOURS hours (a scan of ids, codes tried again and again).
SUSPICIOUS_ACTIONS = (
    "object_not_found",
    "permission_denied",
    "otp_throttled",
    "otp_failed",
    "audit.flood_suppressed",
)
ALERT_THRESHOLD = 20
ALERT_HOURS = 24


def suspicious_accounts(user, *, now=None):
    """[{actor_id, name, count, …}] of the accounts whose
    refused or unfound requests, within the events `user` may read, reach the alert threshold. One query."""

    since = (now or timezone.now()) - datetime.timedelta(hours=ALERT_HOURS)
    rows = list(
        audit_events_visible_to(user)
        .filter(action__in=SUSPICIOUS_ACTIONS, created_at__gte=since, actor__isnull=False)
        .values("actor_id", "actor__username", "actor__first_name", "actor__last_name")
        .annotate(count=Count("id"))
        .filter(count__gte=ALERT_THRESHOLD)
        .order_by("-count", "actor_id")[:10]
    )
    for row in rows:
        row["name"] = (
            f"{row['actor__first_name']} {row['actor__last_name']}".strip() or row["actor__username"]
        )
    return rows


def action_label(action):
    return ACTION_LABELS.get(action) or APP_ACTION_LABELS.get(action, action)


def _detail_value(value, words=None):
    """A detail's value in words; `words`: coded value → its label, kept from one call to the next."""
    if isinstance(value, bool) or value is None:
        return str(VALUE_LABELS[value])
    if isinstance(value, list):
        return ", ".join(str(_detail_value(v, words)) for v in value) or "—"
    if isinstance(value, dict):
        return " ; ".join(f"{k} : {_detail_value(v, words)}" for k, v in value.items()) or "—"
    if isinstance(value, str) and value in VALUE_CODES:
        if words is None:
            return str(VALUE_CODES[value])
        if value not in words:
            words[value] = str(VALUE_CODES[value])
        return words[value]
    return str(value)


def describe_events(events):
    """Word a page of events for people (issue 16): the action in French, the object as its kind and
    readable name with a link to its page, the details with French keys. One query per kind of object
    on the page (a bounded number), never one per event; one `reverse` per kind of page linked."""
    events = list(events)
    wanted = {}
    for event in events:
        if event.target_type in TARGETS and str(event.target_id).isdigit():
            wanted.setdefault(event.target_type, set()).add(int(event.target_id))
    names = {}
    for target_type, ids in wanted.items():
        try:
            model = apps.get_model(*target_type.split(".", 1))
        except (LookupError, ValueError):
            continue
        for pk, obj in _name_objects(model, target_type).in_bulk(sorted(ids)).items():
            names[(target_type, pk)] = str(obj)
    # Each label translated once per page (a lazy string translates again at each use, even hashed).
    actions = {}  # action code → its label
    targets = {}  # target type → (its label, URL name)
    urls = {}  # URL name → pk → URL, or None when it does not reverse
    data_labels = {}  # detail key → its label
    values = {}  # coded value (VALUE_CODES) → its label
    for event in events:
        if event.action not in actions:
            actions[event.action] = str(action_label(event.action))
        event.action_label = actions[event.action]
        if event.target_type not in targets:
            label, url_name = TARGETS.get(event.target_type, (event.target_type, None))
            targets[event.target_type] = (str(label), url_name)
        event.target_label, url_name = targets[event.target_type]
        key = (event.target_type, int(event.target_id)) if str(event.target_id).isdigit() else None
        event.target_name = names.get(key, "")
        event.target_url = ""
        if url_name and key in names:
            if url_name not in urls:
                urls[url_name] = _url_maker(url_name)
            if urls[url_name] is not None:
                event.target_url = urls[url_name](key[1])
        details = []
        for k, v in (event.data or {}).items():
            if k not in data_labels:
                data_labels[k] = str(DATA_LABELS.get(k, k.replace("_", " ")))
            details.append((data_labels[k], _detail_value(v, values)))
        event.details = details
    return events


def _name_objects(model, target_type):
    """The queryset that reads the objects of `target_type` for their names (str()): the columns
    of NAME_FIELDS and the related objects they name, or whole rows for a kind not listed."""
    objects = model._default_manager.order_by()  # a dict by id: no ordering (nor its joins)
    fields = NAME_FIELDS.get(target_type)
    if fields is None:
        return objects
    # select_related(None): none of the relations a manager may follow by default, only those named.
    objects = objects.select_related(None).only(model._meta.pk.name, *fields)
    related = sorted({field.split("__", 1)[0] for field in fields if "__" in field})
    return objects.select_related(*related) if related else objects


_PK = 987654321987  # a placeholder id: reverse() once per URL name, then each event's id put in


def _url_maker(url_name):
    """pk → URL of `url_name` (a route taking the object's pk), reversed once; None if it does not
    reverse (the events then show no link, as before)."""
    try:
        url = reverse(url_name, args=[_PK])
    except NoReverseMatch:
        return None
    prefix, sep, suffix = url.partition(str(_PK))
    if not sep or str(_PK) in suffix:
        return lambda pk: reverse(url_name, args=[pk])
    return lambda pk: f"{prefix}{pk}{suffix}"


def audit_events_visible_to(user):
    """THE queryset of the journal page and its exports.

    Superusers read everything, including events bound to no centre (failed logins, platform events);
    centre staff read the events of their centres only; other roles read nothing.
    """
    events = AuditEvent.objects.select_related("actor", "centre")
    if not (user.is_authenticated and user.is_active):
        return events.none()
    if user.is_superuser:
        return events
    if user.role != Role.STAFF:
        return events.none()
    return events.filter(centre_id__in=user.centre_ids())


def actors_visible_to(user):
    users = User.objects.order_by("last_name", "first_name", "username")
    if user.is_superuser:
        return users
    return users.filter(centres__in=user.centre_ids()).distinct()


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(label=_("Action"), empty_label=_("Toutes"))
    # The author by his identifier, in a text box: a select of every account of a centre (hundreds
    # of tutors after a few years) cost more to render than the rest of the page (issue 21). Still a
    # choice among the accounts the user may see: another centre's identifier is refused.
    actor = django_filters.ModelChoiceFilter(
        label=_("Auteur (identifiant)"),
        queryset=User.objects.none(),
        to_field_name="username",
        widget=forms.TextInput(attrs={"maxlength": 150, "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"invalid_choice": _("Aucun compte de votre périmètre n'a cet identifiant.")},
    )
    target_type = django_filters.ChoiceFilter(label=_("Type d'objet"), empty_label=_("Tous"))
    since = django_filters.DateFilter(
        method="filter_since",
        label=_("Du"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = django_filters.DateFilter(
        method="filter_until",
        label=_("Au"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    target_id = django_filters.CharFilter(label=_("Identifiant de l'objet"), max_length=64)

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "target_type", "target_id", "since", "until"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        user = request.user
        actions, target_types = journal_codes(user)
        self.filters["action"].extra["choices"] = sorted(
            ((code, action_label(code)) for code in actions), key=lambda choice: str(choice[1])
        )
        self.filters["target_type"].extra["choices"] = sorted(
            ((t, str(TARGETS.get(t, (t, None))[0])) for t in target_types), key=lambda choice: choice[1]
        )
        self.filters["actor"].queryset = actors_visible_to(user)

    def filter_since(self, queryset, name, value):
        return queryset.filter(created_at__gte=_local_midnight(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(created_at__lt=_local_midnight(value + datetime.timedelta(days=1)))


def _local_midnight(day):
    """The instant a local (Paris) day starts: the date filters compare the indexed column itself
    (`created_at >= …`), not its date in a time zone, which no index can answer."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# The actions and kinds of objects the filters offer: those present in the events a user may read.
# Reading them takes a scan of the journal (millions of rows after a few years), so they are kept in
# the cache for JOURNAL_CODES_SECONDS per scope: an action that appears for the first time shows in
# the filter within that delay (the events themselves show at once).
JOURNAL_CODES_SECONDS = 600


def journal_codes(user):
    """(actions, target types) present in the events `user` may read, cached per scope."""
    if user.is_superuser:
        scope = "all"
    elif user.is_authenticated and user.role == Role.STAFF:
        scope = "c" + "-".join(str(pk) for pk in sorted(user.centre_ids()))
    else:
        return [], []
    key = f"audit-journal-codes:{scope}"
    codes = cache.get(key)
    if codes is None:
        visible = audit_events_visible_to(user).order_by()
        codes = (
            list(visible.values_list("action", flat=True).distinct()),
            list(visible.exclude(target_type="").values_list("target_type", flat=True).distinct()),
        )
        cache.set(key, codes, JOURNAL_CODES_SECONDS)
    return codes


# -- keyset pagination of the journal ---------------------------------------------------------------

JOURNAL_PAGE_SIZE = 50
# The columns the page shows (core/audit_rows.py): not the message, nor the rest of the author's
# account (password hash, dates…) and centre, which cost their conversion at each row (issue 21).
PAGE_FIELDS = (
    "created_at",
    "action",
    "target_type",
    "target_id",
    "data",
    "ip_address",
    "actor__username",
    "actor__first_name",
    "actor__last_name",
    "centre__name",
)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass
class JournalPage:
    """One page of the journal, newest first, and the cursors of its neighbours.

    `newer` / `older`: the value of the `apres` / `avant` parameter of the links « Plus récents » /
    « Plus anciens » (None when there is nothing that way). `at_start`: the page holds the newest
    events."""

    events: list
    newer: str | None
    older: str | None
    at_start: bool


def encode_cursor(event):
    """An event's place in the journal's order (date, then id): « microseconds since 1970-id »."""
    return f"{(event.created_at - _EPOCH) // datetime.timedelta(microseconds=1)}-{event.pk}"


def decode_cursor(value):
    """(created_at, id) from a cursor, or None when it is not one (a hand-made or truncated link)."""
    micros, sep, pk = (value or "").partition("-")
    if not sep or not micros.isdigit() or not pk.isdigit() or len(micros) > 18 or len(pk) > 18:
        return None
    try:
        return _EPOCH + datetime.timedelta(microseconds=int(micros)), int(pk)
    except OverflowError:
        return None


def journal_page(events, *, before=None, after=None, size=JOURNAL_PAGE_SIZE):
    """The page of `events` (a queryset) older than the cursor `before`, or newer than `after`, or
    the newest. Keyset pagination on the index (created_at, id): each page reads its rows and one
    more, however deep in the journal it is (no OFFSET, no COUNT of millions of events)."""
    newest_first = events.order_by("-created_at", "-id")
    after_key = decode_cursor(after) if after else None
    if after_key is not None:
        moment, pk = after_key
        rows = list(
            events.filter(created_at__gte=moment)
            .filter(Q(created_at__gt=moment) | Q(id__gt=pk))
            .order_by("created_at", "id")[: size + 1]
        )
        if rows:
            more_newer = len(rows) > size
            rows = rows[:size][::-1]
            return JournalPage(
                rows, encode_cursor(rows[0]) if more_newer else None, encode_cursor(rows[-1]), not more_newer
            )
        # nothing newer: the newest page
    before_key = decode_cursor(before) if before and after_key is None else None
    if before_key is not None:
        moment, pk = before_key
        rows = list(
            newest_first.filter(created_at__lte=moment).filter(Q(created_at__lt=moment) | Q(id__lt=pk))[
                : size + 1
            ]
        )
        more_older = len(rows) > size
        rows = rows[:size]
        newer = encode_cursor(rows[0]) if rows else None
        if rows:
            # « Plus récents » from this page: the events after its first one.
            return JournalPage(rows, newer, encode_cursor(rows[-1]) if more_older else None, False)
    rows = list(newest_first[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    return JournalPage(rows, None, encode_cursor(rows[-1]) if more_older else None, True)


def event_row(event):
    return [
        event.created_at,
        event.action,
        str(action_label(event.action)),
        event.actor.username if event.actor else "",
        event.centre.code if event.centre else "",
        event.target_type,
        event.target_id,
        event.message,
        event.ip_address or "",
        json.dumps(event.data, ensure_ascii=False, sort_keys=True) if event.data else "",
    ]


EXPORT_HEADERS = [
    _("Date"),
    _("Code de l'action"),
    _("Action"),
    _("Auteur (identifiant)"),
    _("Centre"),
    _("Type d'objet"),
    _("Identifiant de l'objet"),
    _("Message"),
    _("Adresse IP"),
    _("Données"),
]
