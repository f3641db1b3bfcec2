"""Who may manage whose account (rules predicates, tested one by one).

Nobody manages an account with rights above his own: centre staff manage the accounts of their
centres only — never a superuser's, never one that also works for a centre they do not (its other
centre would lose or gain a person without its staff knowing); superusers manage every account.
"""

import rules

from core.permissions import is_centre_staff, is_superuser


@rules.predicate
def person_within_my_centres(user, person):
    if person is None or person.is_superuser:
        return False
    centres = set(person.centres.values_list("id", flat=True))
    return bool(centres) and centres <= set(user.centre_ids())


@rules.predicate
def is_self(user, person):
    return person is not None and user.pk == person.pk


may_manage_person = is_centre_staff & (is_superuser | person_within_my_centres)
may_deactivate_person = may_manage_person & ~is_self

rules.add_rule("people.manage_person", may_manage_person)
rules.add_rule("people.deactivate_person", may_deactivate_person)
