"""The statistics fragments' cache key carries a digest of what draws them (`_code_stamp`): it must
cover every template the fragments include, else a deployment that changes only that template would
serve HTML drawn by the previous version."""

import os

from django.template.loader import get_template
from django.template.loader_tags import IncludeNode

from reporting import statistics


def included_templates(name, seen=None):
    seen = set() if seen is None else seen
    if name in seen:
        return seen
    seen.add(name)
    for node in get_template(name).template.nodelist.get_nodes_by_type(IncludeNode):
        included = node.template.resolve({})  # a constant name: "reporting/includes/…"
        assert isinstance(included, str), f"{name}: an include by variable escapes the stamp"
        included_templates(included, seen)
    return seen


def test_the_stamp_covers_every_template_the_fragments_include():
    drawn = set()
    for name in statistics.FRAGMENT_SOURCES:
        drawn |= included_templates(name)
    assert drawn <= set(statistics.FRAGMENT_SOURCES)


def test_the_stamp_is_a_digest_of_existing_sources_computed_once():
    here = os.path.dirname(statistics.__file__)
    assert all(os.path.exists(os.path.join(here, name)) for name in statistics.FRAGMENT_MODULES)
    statistics._code_stamp.cache_clear()
    stamp = statistics._code_stamp()
    assert len(stamp) == 12 and statistics._code_stamp() == stamp
