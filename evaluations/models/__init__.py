"""Evaluations (issue 5): commissions, sessions, convocations, scoring sheets, commission proposals,
company opinions and tutor invitations. Names follow docs/design.md (the contract between apps)."""

from .choices import College, Conclusion, Judgement, Opinion, SheetStatus
from .commissions import (
    Commission,
    CommissionMember,
    ConflictOfInterest,
    Convocation,
    ConvocationEvaluator,
    EvaluationSession,
)
from .legacy import DeliveryMode, LegacyExamination
from .opinions import CompanyOpinion, TutorInvitation
from .scoring import CommissionProposal, CriterionJudgement, ScoringSheet

__all__ = [
    "College",
    "Commission",
    "CommissionMember",
    "CommissionProposal",
    "CompanyOpinion",
    "Conclusion",
    "ConflictOfInterest",
    "Convocation",
    "ConvocationEvaluator",
    "CriterionJudgement",
    "DeliveryMode",
    "EvaluationSession",
    "Judgement",
    "LegacyExamination",
    "Opinion",
    "ScoringSheet",
    "SheetStatus",
    "TutorInvitation",
]
