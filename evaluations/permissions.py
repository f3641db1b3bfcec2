"""Object-level permission predicates of the evaluations app (rules library).

Views first fetch objects through `evaluations.selectors` (outside scope → 404); a role that may never
use a view gets 403 (`role_required`). These predicates then name the action allowed on the object.
"""

import rules

from core.permissions import is_centre_staff, is_evaluator, is_tutor

from .selectors import is_president_for


def _centre_id_of(obj):
    for path in ("centre_id", "session.centre_id", "candidate.centre_id", "commission.centre_id"):
        value = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        if value is not None:
            return value
    return None


@rules.predicate
def works_in_object_centre(user, obj):
    centre_id = _centre_id_of(obj) if obj is not None else None
    return centre_id is not None and centre_id in user.centre_ids()


@rules.predicate
def owns_sheet(user, sheet):
    return sheet is not None and sheet.evaluator_id == user.pk


@rules.predicate
def presides_commission_of(user, candidate):
    return candidate is not None and is_president_for(user, candidate)


@rules.predicate
def is_tutor_of(user, candidate):
    return candidate is not None and candidate.tutor_id is not None and candidate.tutor.user_id == user.pk


can_manage_evaluations = is_centre_staff & works_in_object_centre
can_score_sheet = is_evaluator & owns_sheet
can_record_proposal = is_evaluator & presides_commission_of
can_give_opinion = is_tutor & is_tutor_of

rules.add_perm("evaluations.manage", can_manage_evaluations)
rules.add_perm("evaluations.score_sheet", can_score_sheet)
rules.add_perm("evaluations.record_proposal", can_record_proposal)
rules.add_perm("evaluations.give_opinion", can_give_opinion)
