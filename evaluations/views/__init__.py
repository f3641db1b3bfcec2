"""Pages of the evaluations app, by audience: staff (sessions, commissions, candidates), evaluators
(scoring, commission proposal, grid PDF) and tutors (company opinion, invitation link).

Views are thin: objects come from `evaluations.selectors` (outside the user's scope → 404), the role
is checked by `role_required` (→ 403), every change goes through `evaluations.services`."""
