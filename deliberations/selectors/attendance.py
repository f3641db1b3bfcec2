"""Convocations (notice periods), jury composition and attendance rules of a deliberation session."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import long_date

from ..models import (
    Attendance,
    College,
    JuryMember,
)


def convocation_warnings(session, today: date | None = None):
    """Late or missing convocations (domain.md: unions ≥ 15 days, employee members ≥ 8 days)."""
    today = today or timezone.localdate()
    warnings = []
    if session.is_closed:
        return warnings
    if session.unions_asked_on is None:
        if today > session.union_deadline:
            warnings.append(
                _(
                    "Les organisations syndicales n'ont pas été sollicitées et la date limite (%(d)s) est passée."
                )
                % {"d": long_date(session.union_deadline)}
            )
    elif session.unions_asked_on > session.union_deadline:
        warnings.append(
            _(
                "Les organisations syndicales ont été sollicitées tardivement (le %(on)s, au plus tard le %(d)s)."
            )
            % {
                "on": long_date(session.unions_asked_on),
                "d": long_date(session.union_deadline),
            }
        )
    if session.members_notified_on is None:
        if today > session.notification_deadline:
            warnings.append(
                _("Les membres salariés n'ont pas été convoqués et la date limite (%(d)s) est passée.")
                % {"d": long_date(session.notification_deadline)}
            )
    elif session.members_notified_on > session.notification_deadline:
        warnings.append(
            _("Les membres salariés ont été convoqués tardivement (le %(on)s, au plus tard le %(d)s).")
            % {
                "on": long_date(session.members_notified_on),
                "d": long_date(session.notification_deadline),
            }
        )
    return warnings


def convocation_blockers(session):
    """Why the convocations prevent the deliberation from closing (docs/deliberations.md, « Convocation
    notices »): the employees' college must have been convened at all — unions asked to name their
    members and employee members notified, both recorded. A late notice does not block (see
    `late_convocations`)."""
    problems = []
    if session.unions_asked_on is None:
        problems.append(_("la sollicitation des organisations syndicales n'est pas enregistrée"))
    if session.members_notified_on is None:
        problems.append(_("la convocation des membres salariés n'est pas enregistrée"))
    return problems


def late_convocations(session):
    """The late notices, as the PV states them (dates and deadlines): the deliberation stands when the
    jury sits with quorum, parity and its president, and the GTP « Certifications » can check it."""
    notes = []
    if session.unions_asked_on and session.unions_asked_on > session.union_deadline:
        notes.append(
            _(
                "Organisations syndicales sollicitées le %(on)s, au lieu du %(d)s au plus tard (%(n)s jours avant la "
                "délibération)."
            )
            % {
                "on": session.unions_asked_on.strftime("%d/%m/%Y"),
                "d": session.union_deadline.strftime("%d/%m/%Y"),
                "n": (session.date - session.union_deadline).days,
            }
        )
    if session.members_notified_on and session.members_notified_on > session.notification_deadline:
        notes.append(
            _(
                "Membres salariés convoqués le %(on)s, au lieu du %(d)s au plus tard (%(n)s jours avant la délibération)."
            )
            % {
                "on": session.members_notified_on.strftime("%d/%m/%Y"),
                "d": session.notification_deadline.strftime("%d/%m/%Y"),
                "n": (session.date - session.notification_deadline).days,
            }
        )
    return notes


def composition_problems(members):
    """Why a jury's composition breaks the branch's rules (empty list when it is fine)."""
    problems = []
    employees = [m for m in members if m.college == College.EMPLOYEES]
    employers = [m for m in members if m.college == College.EMPLOYERS]
    if not employees or not employers:
        problems.append(_("Le jury doit compter des membres des deux collèges."))
    elif len(employees) != len(employers):
        problems.append(
            _("Le jury n'est pas paritaire : %(e)s membre(s) salarié(s) pour %(m)s membre(s) employeur(s).")
            % {"e": len(employees), "m": len(employers)}
        )
    if not any(m.is_president for m in members):
        problems.append(_("Le jury n'a pas de président (collège employeurs)."))
    return problems


def attendance_problems(session, attendances=None):
    """Why the attendance prevents the session from closing: parity, quorum, president."""

    if attendances is None:
        attendances = list(session.attendances.select_related("member"))
    present = [a.member for a in attendances if a.present]
    if not attendances:
        return [_("Les présences des membres du jury n'ont pas été enregistrées.")]
    problems = []
    quorum = settings.CQPM["JURY_QUORUM_MIN_PRESENT"]
    if len(present) < quorum:
        problems.append(
            _("Quorum non atteint : %(n)s membre(s) présent(s), %(q)s au minimum.")
            % {"n": len(present), "q": quorum}
        )
    employees = sum(1 for m in present if m.college == College.EMPLOYEES)
    employers = sum(1 for m in present if m.college == College.EMPLOYERS)
    if employees != employers:
        problems.append(
            _(
                "Parité non respectée : %(e)s membre(s) salarié(s) présent(s) pour %(m)s membre(s) employeur(s)."
            )
            % {"e": employees, "m": employers}
        )
    if not any(m.is_president for m in present):
        problems.append(_("Le président du jury (voix prépondérante) est absent."))
    return problems


def session_members(session):
    """Jury members with their attendance for this session (one query each); the attendance records
    come with their member (attendance_problems reads it)."""
    attendance = {a.member_id: a for a in Attendance.objects.filter(session=session).select_related("member")}
    members = list(JuryMember.objects.filter(jury_id=session.jury_id).select_related("user"))
    for member in members:
        record = attendance.get(member.pk)
        member.present = bool(record and record.present)
        member.attendance_recorded = record is not None
    return members, list(attendance.values())
