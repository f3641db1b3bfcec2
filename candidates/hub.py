"""The candidate's page as the hub (issue 16): the apps above `candidates` (evaluations, deliberations)
add their part of the page through this registry, so that `candidates` never imports them.

A provider is `provider(request, candidate) -> HubSection | None`, registered from the app's
`AppConfig.ready` with `register_section(provider)`. `candidate` comes from
`selectors.candidate_detail_queryset` (its dossier as annotations: `dossier_pk`,
`dossier_company_opinion_applies`…) and carries `dossier_rows` (given to `sections_for`), the dossier's competencies as the page
reads them (`selectors.dossier_rows`, in the competencies' order): a section reuses them instead of
querying them again. It reads with a constant number of queries (the page's budget is pinned in
tests/performance) and returns:
- `stages`: the stages of the timeline it knows (label, date, who acted, done or to come);
- `next_steps`: the buttons that move the candidate on (the page shows the first one as « Prochaine
  étape »);
- `template` / `context`: its section of the page.
"""

from dataclasses import dataclass, field


@dataclass
class Stage:
    order: int  # position in the process: 10 registration … 90 documents
    label: str
    date: object = None  # date or datetime (when it happened, or when it is planned)
    actor: str = ""  # who acted (a person's name or a role), "" when unknown
    done: bool = True
    detail: str = ""


@dataclass
class NextStep:
    order: int  # the earliest in the process is the next step
    label: str
    url: str


@dataclass
class HubSection:
    order: int
    template: str
    context: dict = field(default_factory=dict)
    stages: list = field(default_factory=list)
    next_steps: list = field(default_factory=list)


_PROVIDERS = []


def register_section(provider):
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def sections_for(request, candidate, *, dossier_rows):
    """The sections of the candidate's page. `dossier_rows`: the dossier's competencies the page has
    read (`selectors.dossier_rows`, [] without a dossier), handed to every provider as
    `candidate.dossier_rows` — a required argument, so that no caller can forget them."""
    candidate.dossier_rows = dossier_rows
    sections = [section for provider in _PROVIDERS if (section := provider(request, candidate)) is not None]
    return sorted(sections, key=lambda section: section.order)
