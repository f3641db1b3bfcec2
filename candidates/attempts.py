"""Earlier attempts at a CQPM: what the candidates app asks the app that deliberates (issue 20).

`candidates` sits below `deliberations` (docs/design.md) and never imports it. Registration needs two
answers only the jury's records give; `deliberations` provides them from its `AppConfig.ready`:
- `deliberated_attempts(candidate_ids, certification_code)`: which of these candidates were deliberated
  on that CQPM, most recent first (`register_deliberated_attempts`); none until provided;
- `reattempt_registered(sender=Candidate, candidate=, actor=)`: sent inside the registration's
  transaction once the new attempt and its dossier exist; capitalisation listens
  (`deliberations.capitalisation.apply_capitalisation`), so a failed registration leaves nothing behind.
"""

from django.dispatch import Signal

reattempt_registered = Signal()

_providers = {}


def register_deliberated_attempts(provider):
    """`provider(candidate_ids, certification_code)` → ids deliberated on that CQPM, most recent first."""
    _providers["deliberated_attempts"] = provider


def deliberated_attempts(candidate_ids, certification_code):
    provider = _providers.get("deliberated_attempts")
    return provider(candidate_ids, certification_code) if provider is not None else []
