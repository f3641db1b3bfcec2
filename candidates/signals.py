"""Signals other apps listen to.

`candidate_anonymised(sender=Candidate, candidate=...)` is sent inside the anonymisation transaction:
apps holding free text or files about the candidate (evaluators' comments, result letters,
certificates) erase them there. The jury's PV keeps its legal content (issue 4).

`dossier_validated(sender=Candidate, candidate=..., by=...)` is sent inside the validation transaction:
`people` creates the candidate's own account there and invites him (issue 23).
"""

from django.dispatch import Signal

candidate_anonymised = Signal()
dossier_validated = Signal()
