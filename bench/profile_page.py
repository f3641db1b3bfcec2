"""Where a page's time goes: cProfile of N requests of one bench page, in-process (docs/performance.md).

    DATABASE_URL=postgres://cqpm:cqpm@127.0.0.1:5432/cqpm_bench .venv/bin/python bench/profile_page.py jury_board

The page is one of bench/targets.py's keys (candidate_list, candidate_detail, scoring, jury_board,
statistics). Requests go through Django's test client (full middleware stack, DEBUG off) as the
account the bench uses. Prints the wall and CPU time per request, the database time and number of
queries, the split between SQL, template rendering and the rest, and the top functions.
"""

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqpm.settings")
os.environ.setdefault("CQPM_BENCH", "1")  # the development-only bench app (bench.scale)
# The test client serves no static files; plain URLs keep {% static %} independent of collectstatic.
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")


def main(key, repeat):
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.targets import find_targets
    from core.models import User

    page = next(p for p in find_targets()["pages"] if p["key"] == key)
    client = Client()
    if page["user"]:
        client.force_login(User.objects.get(username=page["user"]))
    client.get(page["path"])  # warm caches (templates, content types)

    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        wall, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        for _ in range(repeat):
            response = client.get(page["path"])
        profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert response.status_code == 200, response.status_code
    sql = sum(float(q["time"]) for q in queries.captured_queries)
    stats = pstats.Stats(profiler)
    # Cumulative time of the top-level template rendering (render_to_string), queries inside included.
    template = sum(
        entry[3]
        for func, entry in stats.stats.items()
        if func[0].endswith("django/template/loader.py") and func[2] == "render_to_string"
    )
    print(f"{page['label']} — {page['path']} ({len(response.content) // 1024} Kio)")
    print(
        f"par requête : {wall / repeat * 1000:.0f} ms (processeur {cpu / repeat * 1000:.0f} ms), "
        f"{len(queries.captured_queries) // repeat} requêtes SQL, {sql / repeat * 1000:.0f} ms en base"
    )
    print(
        f"rendu des gabarits, requêtes paresseuses comprises (sous profilage) : {template / repeat * 1000:.0f} ms"
    )
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(35)
    print(buffer.getvalue())
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(20)
    print(buffer.getvalue())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
