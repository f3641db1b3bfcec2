"""Machinery of the permission matrix: walk the URL resolver, build URLs, classify answers."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

EXCLUDED_PREFIXES = ("admin/", "static/", "media/", "__debug__/")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    params: tuple


def walk(patterns=None, prefix="", namespace=None):
    """Every named URL pattern of the project (recursively), outside the admin and static files."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        text = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if (prefix + text).startswith(EXCLUDED_PREFIXES):
                continue
            inner = entry.namespace
            full = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from walk(entry.url_patterns, prefix + text, full)
        elif isinstance(entry, URLPattern):
            if (prefix + text).startswith(EXCLUDED_PREFIXES):
                continue
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(name=name, pattern=prefix + text, params=tuple(entry.pattern.converters))


def url_routes():
    routes = {}
    for route in walk():
        if route.name is None:
            raise AssertionError(f"URL sans nom : {route.pattern} (impossible à déclarer dans la matrice)")
        routes.setdefault(route.name, route)
    return routes


def classify(response):
    """The answer as the table names it: ok, 403, 404, login, 405 (or the raw status)."""
    status = response.status_code
    if status in (301, 302, 303):
        location = response["Location"]
        if location.split("?")[0] == reverse(settings.LOGIN_URL):
            return "login"
        return "ok"
    if status in (200, 201, 204, 400, 409, 422):
        return "ok"
    if status in (403, 404, 405):
        return str(status)
    return str(status)


def request_rolled_back(client, method, url, session_cookie):
    """One request whose database changes are undone afterwards (an allowed POST really acts)."""
    with transaction.atomic():
        try:
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, {})
        finally:
            transaction.set_rollback(True)
    # The rollback also restored the session row: point the client back at it.
    if session_cookie is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_cookie
    else:
        client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
    return response
