"""Object-level permissions of the deliberations (rules predicates, tested one by one).

Views first fetch the session through `selectors.sessions_visible_to` (out of scope → 404), then ask
these predicates what the user may do with it (not allowed → 403).
"""

import rules

from core.permissions import is_centre_staff, is_jury_member


@rules.predicate
def is_staff_of_session_centre(user, session):
    if session is None or not is_centre_staff(user):
        return False
    return user.is_superuser or session.centre_id in user.centre_ids()


def note_jury_seat(session, user):
    """`user` sits on the session's jury: `selectors.session_for` found the session through his seat
    (its EXISTS), so `sits_on_session_jury` need not ask the database again for this instance."""
    session.__dict__.setdefault("_jury_seats", {})[user.pk] = True


@rules.predicate
def sits_on_session_jury(user, session):
    if session is None or not is_jury_member(user):
        return False
    # Asked several times by one page (view, decide, close): one query per session instance and user.
    seats = session.__dict__.setdefault("_jury_seats", {})
    if user.pk not in seats:
        seats[user.pk] = session.jury.members.filter(user=user).exists()
    return seats[user.pk]


@rules.predicate
def is_staff_of_jury_centre(user, jury):
    if jury is None or not is_centre_staff(user):
        return False
    return user.is_superuser or jury.centre_id in user.centre_ids()


can_view_session = is_staff_of_session_centre | sits_on_session_jury
can_manage_session = is_staff_of_session_centre
can_decide = is_staff_of_session_centre | sits_on_session_jury
can_close_session = is_staff_of_session_centre | sits_on_session_jury
can_amend = is_staff_of_session_centre
can_manage_jury = is_staff_of_jury_centre

rules.add_perm("deliberations.view_session", can_view_session)
rules.add_perm("deliberations.manage_session", can_manage_session)
rules.add_perm("deliberations.decide", can_decide)
rules.add_perm("deliberations.close_session", can_close_session)
rules.add_perm("deliberations.amend", can_amend)
rules.add_perm("deliberations.manage_jury", can_manage_jury)


@rules.predicate
def is_staff_of_candidate_centre(user, candidate):
    if candidate is None or not is_centre_staff(user):
        return False
    return user.is_superuser or candidate.centre_id in user.centre_ids()


# An earlier deliberation (its PV) is recorded by the staff of the candidate's centre (issue 22).
can_record_prior_deliberation = is_staff_of_candidate_centre
rules.add_perm("deliberations.record_prior_deliberation", can_record_prior_deliberation)
