from .appeals import Appeal, AppealStatus
from .decisions import (
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    CompetencyDecision,
    Decision,
    OutcomeAmendment,
    Result,
)
from .documents import CentreDocumentSettings, DocumentKind, DocumentStatus, GeneratedDocument
from .juries import College, Jury, JuryMember
from .prior import PriorDeliberation
from .sessions import Attendance, DeliberationSession, SessionCandidate, SessionStatus

__all__ = [
    "Appeal",
    "AppealStatus",
    "Attendance",
    "CandidateOutcome",
    "CentreDocumentSettings",
    "CapitalisedBlock",
    "CapitalisedCompetency",
    "College",
    "CompetencyDecision",
    "Decision",
    "DeliberationSession",
    "DocumentKind",
    "DocumentStatus",
    "GeneratedDocument",
    "Jury",
    "JuryMember",
    "OutcomeAmendment",
    "PriorDeliberation",
    "Result",
    "SessionCandidate",
    "SessionStatus",
]
