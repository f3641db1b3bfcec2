"""Who may use the legal reporting pages: centre staff, on their own centres' holders."""

import rules

from core.permissions import is_centre_staff


@rules.predicate
def is_batch_centre_staff(user, batch):
    return batch is not None and (user.is_superuser or batch.centre_id in user.centre_ids())


rules.add_perm("reporting.view_accrochage", is_centre_staff)
rules.add_perm("reporting.export_accrochage", is_centre_staff)


@rules.predicate
def is_candidate_centre_staff(user, candidate):
    return candidate is not None and (user.is_superuser or candidate.centre_id in user.centre_ids())


rules.add_perm("reporting.download_batch", is_centre_staff & is_batch_centre_staff)
rules.add_perm("reporting.import_processing_report", is_centre_staff & is_batch_centre_staff)
rules.add_perm("reporting.record_legacy_examination", is_centre_staff & is_candidate_centre_staff)
