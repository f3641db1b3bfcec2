"""State changes of the evaluations app. Views, commands, tasks and other apps call these only.

Each function validates (raising `core.exceptions.BusinessRuleError` with a French message), changes,
audits (ids only) and queues its side effects (emails, tasks) after commit.
"""

from .commissions import (
    add_member,
    assign_evaluator,
    convene_candidate,
    create_commission,
    create_session,
    declare_conflict,
    designate_acting_president,
    remove_conflict,
    remove_member,
    resend_convocation,
    set_president,
    unassign_evaluator,
    update_session,
)
from .legacy import record_legacy_examination
from .opinions import (
    accept_invitation,
    check_invitation,
    invitation_link_for_staff,
    invite_tutor,
    save_opinions,
    sign_opinions,
)
from .scoring import (
    StaleSheetError,
    check_scoring_open,
    record_proposal,
    refresh_proposal,
    reopen_sheet,
    save_sheet,
    scoring_not_open_reason,
)

__all__ = [
    "StaleSheetError",
    "accept_invitation",
    "add_member",
    "assign_evaluator",
    "check_invitation",
    "check_scoring_open",
    "convene_candidate",
    "create_commission",
    "create_session",
    "declare_conflict",
    "designate_acting_president",
    "invitation_link_for_staff",
    "invite_tutor",
    "record_legacy_examination",
    "record_proposal",
    "refresh_proposal",
    "remove_conflict",
    "remove_member",
    "reopen_sheet",
    "resend_convocation",
    "save_opinions",
    "save_sheet",
    "scoring_not_open_reason",
    "set_president",
    "sign_opinions",
    "unassign_evaluator",
    "update_session",
]
