from django.utils.functional import SimpleLazyObject

from .navigation import navigation_for


def navigation(request):
    """`main_navigation` for templates that want the entries; computed only if a template reads it
    (base.html draws the menu with `{% main_menu %}`, which reuses its rendering)."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"main_navigation": SimpleLazyObject(lambda: navigation_for(user, request.path))}
