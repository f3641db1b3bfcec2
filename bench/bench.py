"""`make bench`: the performance benchmark against PostgreSQL (docs/performance.md).

Steps, each printed as it runs:
1. the bench database (BENCH_DATABASE_URL, default postgres://cqpm:cqpm@127.0.0.1:5432/cqpm_bench) is
   created if absent, migrated, and filled with `seed_scale` if the scale data is absent;
2. the app is started under gunicorn with the production settings plus the bench app
   (cqpm/settings_bench.py: DEBUG off, generated SECRET_KEY)
   on a free loopback port;
3. each page is loaded for BENCH_DURATION seconds by BENCH_CONNECTIONS keep-alive connections, as
   the account that uses it, after a warm-up; the bare view (a constant page, no database, no
   session) is measured first and last, in the same run, as the reference;
4. documents: the PV of the 300-candidate session by one Celery worker end to end, WeasyPrint alone
   on the same HTML, then every document of the session with two workers (bench/documents.py);
5. CSV import of 10 000 candidates: validation then commit (bench/csv_import.py).

Only loopback addresses are used. Results are printed as tables and kept in var/bench/.
"""

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402

PYTHON = sys.executable
BIN = Path(PYTHON).parent
RESULTS_DIR = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://cqpm:cqpm@127.0.0.1:5432/cqpm_bench"
DEMO_PASSWORD = "cqpm-demo"  # noqa: S105 - the scale accounts' password (core.demo.DEMO_PASSWORD)

# Targets (issue 9). Statistics may be cached: its ratio target is lower.
RATIO_TARGET = {"statistics": 0.1}
DEFAULT_RATIO_TARGET = 0.3
P95_TARGET_MS = 150


def say(message=""):
    print(message, flush=True)


def env_number(name, default, kind=int):
    return kind(os.environ.get(name, default))


# -- machine ----------------------------------------------------------------------------------------


def machine():
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load_average = " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        load_average = "?"
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) // 1024 // 1024} Gio"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory": memory,
        "load_average_at_start": load_average,
        "python": platform.python_version(),
        "date": datetime.now().isoformat(timespec="seconds"),
    }


# -- database ---------------------------------------------------------------------------------------


def ensure_database(url):
    """Create the bench database when absent (connecting to the server's `postgres` database)."""
    import psycopg2
    from psycopg2 import sql

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit("Le banc mesure PostgreSQL : BENCH_DATABASE_URL doit être une URL postgres://")
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("Le banc n'utilise que des adresses locales (loopback).")
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or ""),
        password=urllib.parse.unquote(parts.password or ""),
        dbname="postgres",
        connect_timeout=5,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            say(f"  base {name} créée")
        # The planner setting of docker-compose's PostgreSQL (SSD storage), for this database only.
        cursor.execute(sql.SQL("ALTER DATABASE {} SET random_page_cost = 1.1").format(sql.Identifier(name)))
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    connection.close()
    return version


def redis_reachable(url):
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def base_env(database_url, **extra):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "cqpm.settings",
        "CQPM_BENCH": "1",  # the development-only `bench` app: seed_scale and the bare page
        **extra,
    }
    env.pop("DEBUG", None)
    return env


def manage(env, *args, capture=False):
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )


# -- server -----------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, env, workers, log_path):
        self.env, self.workers, self.log_path = env, workers, log_path
        self.port = free_port()
        self.process = None

    def __enter__(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "cqpm.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn s'est arrêté au démarrage : voir {self.log_path}")
            try:
                status, _body, _headers = request(self.port, "GET", "/bench/bare")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn ne répond pas : voir {self.log_path}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def cpu_seconds(self):
        """CPU time (user + system) spent so far by the gunicorn workers and by PostgreSQL + Redis.

        Read from /proc: unlike throughput, CPU per request does not depend on what else the
        machine is doing, so it is the steadier figure on a shared machine.
        """
        database = urllib.parse.urlsplit(self.env["DATABASE_URL"]).path.lstrip("/")
        return {
            "app": sum(process_cpu_seconds(pid) for pid in child_pids(self.process.pid)),
            # Only the backends of the bench database (the machine may be shared: other databases'
            # backends, and the postmaster's count of every ended one, are not the app's), and Redis.
            "db": sum(process_cpu_seconds(pid) for pid in postgres_backends(database))
            + sum(process_cpu_seconds(pid) for pid in pids_named("redis-server")),
        }


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid):
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # the process ended, or no /proc (then CPU figures are simply 0)
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    return name, text[text.rindex(")") + 2 :].split()


def process_cpu_seconds(pid):
    """utime + stime of the process and of its ended children (a PostgreSQL backend that exits
    is counted in the postmaster's cutime/cstime)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    rest = fields[1]  # rest[0] is the state: utime, stime, cutime, cstime are fields 14 to 17 of stat
    return sum(int(value) for value in rest[11:15]) / CLOCK_TICKS


def _all_pids():
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def child_pids(parent):
    children = []
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields and int(fields[1][1]) == parent:
            children.append(pid)
    return children


def pids_named(*names):
    return [pid for pid in _all_pids() if (fields := _stat_fields(pid)) and fields[0] in names]


def postgres_backends(database):
    """The PostgreSQL backends connected to `database`: their title reads
    « postgres: [cluster:] user database host(port) state »."""
    found = []
    for pid in pids_named("postgres"):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if database in title.split():
            found.append(pid)
    return found


def request(port, method, path, *, headers=None, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), response.getheaders()
    finally:
        connection.close()


def _cookies(headers):
    cookies = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _sep, val = pair.partition("=")
            cookies[key.strip()] = val.strip()
    return cookies


def login(port, username, password=DEMO_PASSWORD):
    """Log in through the real login form; returns the Cookie header of the session."""
    status, body, headers = request(port, "GET", "/compte/connexion/")
    cookies = _cookies(headers)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not match or "csrftoken" not in cookies:
        raise SystemExit(f"Page de connexion inattendue (HTTP {status}).")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1), "next": ""}
    )
    origin = f"http://127.0.0.1:{port}"
    status, _body, headers = request(
        port,
        "POST",
        "/compte/connexion/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Origin": origin,
            "Referer": f"{origin}/compte/connexion/",
        },
    )
    session = _cookies(headers).get("sessionid")
    if status != 302 or not session:
        raise SystemExit(f"Connexion refusée pour {username} (HTTP {status}).")
    return f"sessionid={session}; csrftoken={cookies['csrftoken']}"


# -- pages ------------------------------------------------------------------------------------------


def check_page(port, page, cookie):
    import html

    status, body, _headers = request(port, "GET", page["path"], headers={"Cookie": cookie} if cookie else {})
    if status != 200:
        raise SystemExit(f"{page['key']} : HTTP {status} pour {page['path']}")
    expect = page.get("expect") or ""
    if expect and expect not in body and html.escape(expect) not in body:
        raise SystemExit(f"{page['key']} : la page ne contient pas « {expect} » ({page['path']})")
    return len(body.encode())


def measure_pages(server, pages, *, duration, warmup, connections, use_wrk):
    cookies = {}
    results = {}
    order = [p for p in pages if p["key"] == "bare"] + [p for p in pages if p["key"] != "bare"]
    order.append({**order[0], "key": "bare_end"})
    for page in order:
        user = page.get("user")
        if user and user not in cookies:
            cookies[user] = login(server.port, user)
        cookie = cookies.get(user)
        size = check_page(server.port, page, cookie)
        if warmup:
            load.run(
                server.url(page["path"]),
                cookie=cookie,
                duration=warmup,
                connections=connections,
                use_wrk=use_wrk,
            )
        cpu_before = server.cpu_seconds()
        result = load.run(
            server.url(page["path"]),
            cookie=cookie,
            duration=duration,
            connections=connections,
            use_wrk=use_wrk,
        )
        cpu_after = server.cpu_seconds()
        served = max(result["requests"], 1)
        result["app_cpu_ms"] = (cpu_after["app"] - cpu_before["app"]) * 1000 / served
        result["db_cpu_ms"] = (cpu_after["db"] - cpu_before["db"]) * 1000 / served
        result.update(bytes=size, path=page["path"], user=user or "-", label=page.get("label", page["key"]))
        results[page["key"]] = result
        say(
            f"  {page['key']:<17} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms  "
            f"p95 {result['p95_ms']:7.1f} ms  CPU {result['app_cpu_ms']:.1f} + {result['db_cpu_ms']:.1f} ms/req  "
            f"erreurs {result['errors']}"
        )
    return results


def _cpu_ms(result):
    return result.get("app_cpu_ms", 0.0) + result.get("db_cpu_ms", 0.0)


def page_table(results):
    reference = (results["bare"]["rps"] + results["bare_end"]["rps"]) / 2
    lines = [
        f"Référence : vue nue {results['bare']['rps']:.0f} req/s au début, {results['bare_end']['rps']:.0f} "
        f"à la fin (moyenne {reference:.0f}) ; CPU du serveur : {_cpu_ms(results['bare']):.2f} ms par requête.",
        "Ratio CPU : CPU par requête de la vue nue / CPU par requête de la page (app + PostgreSQL + Redis), "
        "indépendant de la charge de la machine.",
        "",
        "| page | req/s | ratio / vue nue | p50 (ms) | p95 (ms) | CPU app + données (ms/req) | ratio CPU | objectif | tenu |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    verdicts = {}
    for key, result in results.items():
        if key in ("bare", "bare_end"):
            continue
        ratio = result["rps"] / reference if reference else 0.0
        target = RATIO_TARGET.get(key, DEFAULT_RATIO_TARGET)
        ok = ratio >= target and result["p95_ms"] < P95_TARGET_MS and result["errors"] == 0
        verdicts[key] = {"ratio": ratio, "ok": ok}
        if result["requests"]:
            latency = f"{result['p50_ms']:.1f} | {result['p95_ms']:.1f}"
        else:  # no request finished within the run: no latency to show
            latency = f"> {result['seconds'] * 1000:.0f} | —"
        lines.append(
            f"| {result['label']} | {result['rps']:.1f} | {ratio:.2f} | {latency} | "
            f"{result.get('app_cpu_ms', 0):.1f} + {result.get('db_cpu_ms', 0):.1f} | "
            f"{_cpu_ms(results['bare']) / _cpu_ms(result) if _cpu_ms(result) else 0:.2f} | "
            f"≥ {target} et p95 < {P95_TARGET_MS} ms | {'oui' if ok else 'NON'} |"
        )
    return "\n".join(lines), reference, verdicts


# -- main -------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["pages", "documents", "import"], action="append")
    parser.add_argument("--duration", type=float, default=env_number("BENCH_DURATION", 20, float))
    parser.add_argument("--warmup", type=float, default=env_number("BENCH_WARMUP", 3, float))
    parser.add_argument("--connections", type=int, default=env_number("BENCH_CONNECTIONS", 0))
    parser.add_argument("--workers", type=int, default=env_number("BENCH_WORKERS", 0))
    parser.add_argument("--python-load", action="store_true", help="Générateur Python même si wrk est là.")
    parser.add_argument(
        "--pages",
        help="Seulement ces pages (clés séparées par des virgules, ex. journal,accrochage) + la vue nue.",
    )
    args = parser.parse_args()
    parts = set(args.only or ["pages", "documents", "import"])
    cores = os.cpu_count() or 1
    workers = args.workers or 2 * cores + 1
    connections = args.connections or workers

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    broker_url = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5")
    cache_url = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/6")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    media_root = RESULTS_DIR / "media"
    report = {"machine": machine(), "settings": {}}
    say("== Machine")
    for key, value in report["machine"].items():
        say(f"  {key}: {value}")

    say("== Base de données")
    report["machine"]["postgresql"] = ensure_database(database_url)
    say(
        f"  PostgreSQL {report['machine']['postgresql']} : {urllib.parse.urlsplit(database_url).path.lstrip('/')}"
    )
    env = base_env(database_url, MEDIA_ROOT=str(media_root))
    manage(env, "migrate", "--noinput", "-v0")
    candidates = env_number("BENCH_CANDIDATES", 20000)
    # 20 centres for 20 000 candidates, 50 for 200 000 (1 000 to 4 000 candidates a centre).
    centres = env_number("BENCH_CENTRES", max(20, candidates // 4000))
    session_size = env_number("BENCH_JURY_SESSION_SIZE", 300)
    seeded = manage(
        env,
        "seed_scale",
        "--if-absent",
        "--centres",
        str(centres),
        "--candidates",
        str(candidates),
        "--jury-session-size",
        str(session_size),
        capture=True,
    ).stdout
    say("  " + seeded.strip().replace("\n", "\n  "))
    report["seed_output"] = seeded
    targets = json.loads(
        subprocess.run(
            [PYTHON, str(ROOT / "bench" / "targets.py")],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )

    if "pages" in parts:
        say("== Pages (gunicorn, réglages de production)")
        use_cache = redis_reachable(cache_url)
        production = base_env(
            database_url,
            DJANGO_SETTINGS_MODULE="cqpm.settings_bench",  # production + the bench app (bare page)
            SECRET_KEY=secrets.token_urlsafe(64),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            MEDIA_ROOT=str(media_root),
            CACHE_URL=cache_url if use_cache else "",
            CELERY_BROKER_URL="",
            # Connections kept for the whole run (production: 60 s), so that the backends whose CPU
            # is counted (Gunicorn.cpu_seconds) live from the first measure to the last.
            DB_CONN_MAX_AGE="3600",
        )
        try:
            manage(production, "collectstatic", "--noinput", "-v0", capture=True)
        except subprocess.CalledProcessError as exc:
            # The manifest storage refuses a static file that references a missing one (seen with a
            # vendored .js pointing at its absent .map): measure with the plain compressed storage.
            reason = (exc.stderr or "").strip().splitlines()[-1:] or ["?"]
            say(f"  collectstatic (manifeste) en échec : {reason[0][:160]}")
            say("  → stockage statique sans manifeste pour ce banc (STATICFILES_BACKEND)")
            production["STATICFILES_BACKEND"] = "whitenoise.storage.CompressedStaticFilesStorage"
            manage(production, "collectstatic", "--noinput", "-v0")
            report["settings"]["staticfiles_fallback"] = reason[0]
        use_wrk = not args.python_load and load.shutil.which("wrk") is not None
        say(
            f"  {workers} workers gunicorn (sync), {connections} connexions, {args.duration:.0f} s par page "
            f"après {args.warmup:.0f} s de chauffe, générateur : {'wrk' if use_wrk else 'Python'}, "
            f"cache : {'Redis' if use_cache else 'mémoire locale'}"
        )
        report["settings"].update(
            workers=workers,
            connections=connections,
            duration=args.duration,
            warmup=args.warmup,
            load_generator="wrk" if use_wrk else "python",
            cache="redis" if use_cache else "locmem",
        )
        with Gunicorn(production, workers, RESULTS_DIR / "gunicorn.log") as server:
            pages = targets["pages"]
            if args.pages:
                wanted = {"bare", *args.pages.split(",")}
                pages = [page for page in pages if page["key"] in wanted]
            results = measure_pages(
                server,
                pages,
                duration=args.duration,
                warmup=args.warmup,
                connections=connections,
                use_wrk=use_wrk,
            )
        table, reference, verdicts = page_table(results)
        report["pages"] = results
        report["pages_reference_rps"] = reference
        report["pages_verdicts"] = verdicts
        say("")
        say(table)
        report["pages_table"] = table

    if "documents" in parts:
        say("== Documents (PV et documents de la session de référence, workers Celery)")
        if not redis_reachable(broker_url):
            say(f"  Redis injoignable ({broker_url}) : partie documents sautée.")
        else:
            worker_env = base_env(database_url, MEDIA_ROOT=str(media_root), CELERY_BROKER_URL=broker_url)
            output = subprocess.run(
                [PYTHON, str(ROOT / "bench" / "documents.py"), str(targets["closed_session_id"])],
                cwd=ROOT,
                env=worker_env,
                capture_output=True,
                text=True,
            )
            if output.returncode:
                sys.stderr.write(output.stderr[-4000:])
                raise SystemExit("La partie documents a échoué (voir ci-dessus).")
            documents = json.loads(output.stdout.strip().splitlines()[-1])
            report["documents"] = documents
            say(documents_table(documents))

    if "import" in parts:
        say("== Import CSV")
        output = subprocess.run(
            [PYTHON, str(ROOT / "bench" / "csv_import.py"), str(env_number("BENCH_IMPORT_ROWS", 10000))],
            cwd=ROOT,
            env=base_env(database_url, MEDIA_ROOT=str(media_root)),
            capture_output=True,
            text=True,
        )
        if output.returncode:
            sys.stderr.write(output.stderr[-4000:])
            raise SystemExit("La partie import a échoué (voir ci-dessus).")
        result = json.loads(output.stdout.strip().splitlines()[-1])
        report["import"] = result
        say(import_table(result))

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"results-{stamp}.json"
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    (RESULTS_DIR / "last.json").write_text(path.read_text())
    say(f"== Résultats complets : {path.relative_to(ROOT)}")


def documents_table(d):
    lines = [
        "",
        "| mesure | valeur | objectif | tenu |",
        "|---|---:|---|---|",
        f"| PV de {d['session_size']} candidats, 1 worker, de bout en bout | {d['pv_end_to_end_s']:.2f} s | < 5 s | "
        f"{'oui' if d['pv_end_to_end_s'] < 5 else 'NON'} |",
        f"| dont dans le worker (début → fin de la tâche) | {d['pv_worker_s']:.2f} s | | |",
        f"| WeasyPrint seul sur le même HTML ({d['pv_pages']} pages) | {d['weasyprint_s']:.2f} s | | |",
        f"| le reste (file, requêtes, gabarit, stockage, empreinte) | {d['pv_rest_s']:.2f} s "
        f"({d['pv_rest_ratio']:.2f} × WeasyPrint) | < 0,5 × WeasyPrint | {'oui' if d['pv_rest_ratio'] < 0.5 else 'NON'} |",
        *(
            [
                f"| le même reste mesuré en CPU (worker − WeasyPrint seul, indépendant de la charge) | "
                f"{d['pv_worker_cpu_s'] - d['weasyprint_cpu_s']:.2f} s CPU ({d['pv_rest_cpu_ratio']:.2f} × "
                f"{d['weasyprint_cpu_s']:.2f} s CPU) | < 0,5 × WeasyPrint | "
                f"{'oui' if d['pv_rest_cpu_ratio'] < 0.5 else 'NON'} |"
            ]
            if "pv_rest_cpu_ratio" in d
            else []
        ),
        f"| — contexte et requêtes (en processus, {d['pv_queries']} requêtes) | {d['pv_context_s']:.2f} s | | |",
        f"| — gabarit HTML (en processus) | {d['pv_template_s']:.2f} s | | |",
        f"| — empreinte SHA-256 + stockage (en processus) | {d['pv_store_s']:.3f} s | | |",
        f"| Tous les documents de la session ({d['pack_documents']} PDF), 2 workers"
        + (
            f" (extrapolé : {d['pack_done']} produits dans le temps imparti)"
            if d["pack_extrapolated"]
            else ""
        )
        + f" | {d['pack_s']:.1f} s | < 60 s | {'oui' if d['pack_s'] < 60 else 'NON'} |",
        *(
            [
                f"| CPU des 2 workers pour ces documents | {d['pack_worker_cpu_s']:.1f} s "
                f"({d['candidate_document_cpu_ms']:.0f} ms par document de candidat) | | |"
            ]
            if "pack_worker_cpu_s" in d and "candidate_document_cpu_ms" in d
            else []
        ),
        "| puis l'archive ZIP de la session | "
        + (f"{d['zip_s']:.1f} s" if d["zip_s"] is not None else "non mesurée")
        + " | | |",
    ]
    return "\n".join(lines)


def import_table(r):
    lines = ["", "| mesure | valeur | objectif | tenu |", "|---|---:|---|---|"]
    if r.get("refused"):
        lines.append(f"| import de {r['rows']} lignes en un fichier | refusé : {r['refused']} | | NON |")
    total = r["validation_s"] + r["commit_s"]
    note = f" (extrapolé de {r['measured_rows']} lignes mesurées)" if r.get("extrapolated") else ""
    lines += [
        f"| validation de {r['rows']} lignes ({r['files']} fichier(s)){note} | {r['validation_s']:.1f} s | | |",
        f"| enregistrement{note} | {r['commit_s']:.1f} s | | |",
        f"| total | {total:.1f} s | < 30 s | {'oui' if total < 30 and not r.get('refused') else 'NON'} |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
