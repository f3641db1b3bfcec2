"""The page chrome (base.html) rendered once per process instead of at every request.

Every page pays for base.html: its translated strings, `{% url %}` and `{% static %}` tags and the
menu cost more than many views' own work. None of them depends on the request, only on the language
(and, for the menu, on the role and the page's menu entry), so they are rendered once and reused:

- ``{% once %}…{% endonce %}`` renders its content once per (language, script prefix, keys) and keeps
  the HTML on the template node. The content is rendered in an **isolated** context: it sees only the
  keys given to the tag (``{% once role=user.role %}``), never the page's variables, so nothing of one
  request (user, CSRF token, data) can end up in another's page; a variable used inside without being
  a key renders empty, which shows at once in development and tests. Keys must be few-valued (a role,
  a flag), not identifiers: each node keeps at most ``MAX_VARIANTS`` renderings. A block holds whole
  elements: it never opens or closes a tag it does not close or open itself (issue 21; checked for
  base.html by tests/core/test_chrome.py).
- ``{% main_menu %}`` renders the role's menu (core/navigation.py) with the current entry marked,
  once per (language, role, current entry).

Both assume one URL configuration per process (no per-request `request.urlconf`, which this project does
not use): the memos are cleared when ROOT_URLCONF, the languages or the static files settings change.
"""

import weakref

from django import template
from django.template.base import token_kwargs
from django.template.loader import render_to_string
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from ..models import Role
from ..navigation import active_url, entries_for_role, menu_role

register = template.Library()

MAX_VARIANTS = 64
_once_nodes = weakref.WeakSet()  # to clear them; a node dies with its template
_menus = {}


def clear_memos():
    """Forget every rendered fragment (URL configuration, languages or static storage changed)."""
    _menus.clear()
    for node in list(_once_nodes):
        node.memo.clear()


class OnceNode(template.Node):
    # The content is rendered once, never per request: template inheritance must not look inside
    # (no {% block %} allowed, checked at parse time), which also spares `{% extends %}` walking it.
    child_nodelists = ()

    def __init__(self, nodelist, keys):
        self.nodelist = nodelist
        self.keys = keys
        self.memo = {}
        _once_nodes.add(self)

    def render(self, context):
        values = {name: expression.resolve(context) for name, expression in self.keys.items()}
        memo_key = (get_language(), get_script_prefix(), *sorted(values.items()))
        try:
            return self.memo[memo_key]
        except KeyError:
            pass
        # `context.new` keeps the template and the request (for {% url %}) but none of the variables.
        rendered = self.nodelist.render(context.new(values))
        if len(self.memo) >= MAX_VARIANTS:
            self.memo.clear()
        self.memo[memo_key] = rendered
        return rendered


@register.tag
def once(parser, token):
    """{% once [name=value …] %}constant HTML{% endonce %}: see the module's docstring."""
    bits = token.split_contents()[1:]
    keys = token_kwargs(bits, parser, support_legacy=False)
    if bits:
        raise template.TemplateSyntaxError("{% once %} takes only name=value keys.")
    nodelist = parser.parse(("endonce",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("{% once %} cannot hold a {% block %}: it is rendered once.")
    return OnceNode(nodelist, keys)


@register.filter
def role_label(role):
    """The translated name of a role code (without building the model's choices at every request)."""
    return Role(role).label if role in Role.values else role


@register.simple_tag(takes_context=True)
def main_menu(context):
    """The <ul> of the user's menu entries, the current page's entry marked (aria-current)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    request = context.get("request")
    role = menu_role(user)
    entries = entries_for_role(role)
    active = active_url(entries, request.path if request is not None else "")
    key = (get_language(), get_script_prefix(), role, active)
    html = _menus.get(key)
    if html is None:
        items = [{"label": label, "url": url, "active": url == active} for label, url in entries]
        html = mark_safe(render_to_string("core/includes/main_menu.html", {"items": items}).strip())
        if len(_menus) >= 4 * MAX_VARIANTS:
            _menus.clear()
        _menus[key] = html
    return html


@register.filter
def unique_messages(messages):
    """The request's messages without repeats (issue 16): the same text at the same level shows once,
    e.g. when a service's refusal is reported by two layers."""
    seen = set()
    unique = []
    for message in messages:
        key = (message.level, str(message))
        if key not in seen:
            seen.add(key)
            unique.append(message)
    return unique
