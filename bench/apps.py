from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Development only (issue 20): the scale data (`seed_scale`, bench/scale.py) and the bare page
    the benchmark measures (`bench_bare`, /bench/bare). Installed when CQPM_BENCH is set (cqpm/settings.py),
    by the tests (cqpm/settings_test.py) and by `make bench` (cqpm/settings_bench.py); never by
    cqpm/settings_production.py."""

    name = "bench"
    verbose_name = "Banc de performance (développement)"
