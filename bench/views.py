from django.http import HttpResponse


def bare(request):
    """Constant page that touches neither the database nor the session: the benchmark's reference."""
    return HttpResponse("<!doctype html><title>ok</title><p>ok</p>", content_type="text/html")
