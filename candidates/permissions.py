"""Object-level permission predicates of the candidates app (rules library).

Views first fetch objects through `candidates.selectors` (outside scope → 404), then check these
predicates for the action (→ 403). Services re-check the centre for defence in depth.
"""

import rules

from core.permissions import is_centre_staff, is_evaluator, is_jury_member, is_tutor

from .selectors import candidates_visible_to


def _centre_id_of(obj):
    if obj is None:
        return None
    if hasattr(obj, "centre_id"):
        return obj.centre_id
    if hasattr(obj, "company"):  # Tutor
        return obj.company.centre_id
    if hasattr(obj, "candidate"):  # Dossier, CandidateDocument
        return obj.candidate.centre_id
    return None


@rules.predicate
def works_in_object_centre(user, obj):
    centre_id = _centre_id_of(obj)
    return centre_id is not None and centre_id in user.centre_ids()


@rules.predicate
def is_candidate_tutor(user, candidate):
    return candidate is not None and candidate.tutor_id is not None and candidate.tutor.user_id == user.pk


@rules.predicate
def can_see_candidate_via_selector(user, candidate):
    return candidate is not None and candidates_visible_to(user).filter(pk=candidate.pk).exists()


@rules.predicate
def is_not_anonymised(user, candidate):
    return candidate is not None and candidate.anonymised_at is None


manages_object = is_centre_staff & works_in_object_centre

# Staff of the candidate's centre do everything on the candidate; a tutor only sees their own.
can_manage_candidate = manages_object
can_view_candidate = manages_object | (is_tutor & is_candidate_tutor)
# Reports and evidence: staff of the centre, and the evaluators / jury members the selector lets see
# the candidate (their commission or jury). Tutors never download the candidate's files.
can_download_document = manages_object | ((is_evaluator | is_jury_member) & can_see_candidate_via_selector)
can_export_personal_data = manages_object & is_not_anonymised
can_manage_company = manages_object

rules.add_perm("candidates.manage_candidate", can_manage_candidate)
rules.add_perm("candidates.view_candidate", can_view_candidate)
rules.add_perm("candidates.download_document", can_download_document)
rules.add_perm("candidates.export_personal_data", can_export_personal_data)
rules.add_perm("candidates.manage_company", can_manage_company)
