"""Who may do what with referentials. A referential belongs to the branch, not to a centre: every
centre's staff reads and manages the same versions; evaluators and jury members read the versions in
force or archived; tutors do not use these pages."""

import rules

from core.models import Role
from core.permissions import is_centre_staff, is_evaluator, is_jury_member

READ_ROLES = (Role.STAFF, Role.EVALUATOR, Role.JURY)
MANAGE_ROLES = (Role.STAFF,)

can_read_referentials = is_centre_staff | is_evaluator | is_jury_member
can_manage_referentials = is_centre_staff
# The RNCP number and level are registry facts the certifier's staff keep up to date (audited).
can_set_rncp_registration = can_manage_referentials

rules.add_perm("referential.read_referentials", can_read_referentials)
rules.add_perm("referential.manage_referentials", can_manage_referentials)
rules.add_perm("referential.set_rncp_registration", can_set_rncp_registration)
