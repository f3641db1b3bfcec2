"""Read side of the deliberations: what each role may see, and the data of the session board.

Every view, export and task gets its sessions through `sessions_visible_to(user)`: staff see their
centres' sessions, a jury member the sessions of the juries they sit on, nobody else anything.

One module per concern (issue 20), every name re-exported here for the callers:
- `scope`: the role-scoped querysets (`sessions_visible_to`, `jury_candidates`…);
- `attendance`: convocation notice periods, jury composition, attendance rules;
- `board`: the pre-deliberation checks and the session board, the documents of a session;
- `verification`: public verification of a document, a centre's document settings.
Capitalisation has one owner, `deliberations.capitalisation` (re-exported here too).
"""

from ..capitalisation import Capitalised, capitalised_for, deliberated_attempts
from .attendance import (
    attendance_problems,
    composition_problems,
    convocation_blockers,
    convocation_warnings,
    late_convocations,
    session_members,
)
from .board import (
    BOARD_CACHE_SECONDS,
    BOARD_DECIDED,
    BOARD_PAGE_SIZE,
    BOARD_REVIEW,
    BOARD_STATES,
    BOARD_TO_DECIDE,
    VAE_PATHWAY,
    Anomaly,
    Board,
    BoardLine,
    BoardSummary,
    CandidateRow,
    board,
    board_members,
    board_page,
    board_row,
    board_summary,
    capitalised_text,
    company_opinion_required,
    current_documents,
    decision_evidence,
    pending_documents,
)
from .board import (
    _Block as _Block,
)
from .board import (
    _Competency as _Competency,
)
from .board import (
    _Referential as _Referential,
)
from .board import (
    _referential as _referential,
)
from .scope import (
    appeals_visible_to,
    documents_visible_to,
    is_candidate_locked,
    juries_visible_to,
    jury_candidates,
    open_appeals,
    session_for,
    session_list,
    sessions_visible_to,
)
from .verification import (
    Integrity,
    centres_managed_by,
    document_settings_of,
    later_edition,
    stored_file_integrity,
)

__all__ = [
    "appeals_visible_to",
    "open_appeals",
    "jury_candidates",
    "sessions_visible_to",
    "session_for",
    "juries_visible_to",
    "documents_visible_to",
    "session_list",
    "is_candidate_locked",
    "convocation_warnings",
    "convocation_blockers",
    "late_convocations",
    "composition_problems",
    "attendance_problems",
    "session_members",
    "VAE_PATHWAY",
    "company_opinion_required",
    "BOARD_CACHE_SECONDS",
    "BOARD_PAGE_SIZE",
    "BOARD_STATES",
    "Anomaly",
    "CandidateRow",
    "board",
    "board_row",
    "board_summary",
    "board_members",
    "BoardSummary",
    "BoardLine",
    "Board",
    "board_page",
    "capitalised_text",
    "pending_documents",
    "current_documents",
    "decision_evidence",
    "BOARD_TO_DECIDE",
    "BOARD_DECIDED",
    "BOARD_REVIEW",
    "later_edition",
    "Integrity",
    "stored_file_integrity",
    "centres_managed_by",
    "document_settings_of",
    "Capitalised",
    "capitalised_for",
    "deliberated_attempts",
]
