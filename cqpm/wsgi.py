import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqpm.settings")
application = get_wsgi_application()

# Load the URLconf, hence every view and what they import (WeasyPrint: about a second), when the
# server process starts rather than during a user's first request.
from django.urls import get_resolver  # noqa: E402

_views = get_resolver().url_patterns

# pyHanko (about 0.7 s of imports) for the public verification page's seal check.
from deliberations import seal  # noqa: E402

seal.preload_code()
