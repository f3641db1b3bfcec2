from django.contrib import messages
from django.http import Http404


def fail(request, exc):
    messages.error(request, exc.message)


def get_or_404(queryset, **lookup):
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc
