"""Bounded HTTP load against one URL on the loopback: throughput and latency percentiles.

`wrk` (C, event loop) is used when installed: on a 2-core machine the load generator shares the
processors with the server, and a Python client would eat a noticeable part of them on the fast
pages (the bare view first), which would flatter every ratio. Without wrk, `python_load` runs one
process per connection with http.client keep-alive connections (no GIL between them).

Both return the same dict: requests, seconds, rps, p50_ms, p95_ms, p99_ms, errors, tool.
"""

import http.client
import json
import multiprocessing
import shutil
import subprocess
import tempfile
import time
import urllib.parse

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write("BENCH_JSON ")
  io.write(string.format(
    '{"requests": %d, "micros": %d, "p50": %d, "p95": %d, "p99": %d, "errors": %d, "non2xx": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), errors, summary.errors.status))
end
"""


def only_loopback(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError(f"Le banc ne mesure que des adresses locales (loopback), pas {host}.")


def run(url, *, cookie=None, duration=10.0, connections=4, use_wrk=True):
    only_loopback(url)
    if use_wrk and shutil.which("wrk"):
        return wrk_load(url, cookie=cookie, duration=duration, connections=connections)
    return python_load(url, cookie=cookie, duration=duration, connections=connections)


def wrk_load(url, *, cookie, duration, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, round(duration))}s",
        "--timeout",
        "60s",  # a slow page must show its latency, not be counted as an error
        "--script",
        script.name,
    ]
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = data["micros"] / 1e6
    return {
        "requests": data["requests"],
        "seconds": seconds,
        "rps": data["requests"] / seconds if seconds else 0.0,
        "p50_ms": data["p50"] / 1000,
        "p95_ms": data["p95"] / 1000,
        "p99_ms": data["p99"] / 1000,
        "errors": data["errors"],
        "tool": "wrk",
    }


def _percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def _client(url, cookie, deadline, queue):
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Cookie": cookie} if cookie else {}
    latencies, errors = [], 0
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            continue
        latencies.append(time.perf_counter() - started)
    connection.close()
    queue.put((latencies, errors))


def python_load(url, *, cookie, duration, connections):
    started = time.perf_counter()
    deadline = started + duration
    queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_client, args=(url, cookie, deadline, queue))
        for _ in range(connections)
    ]
    for worker in workers:
        worker.start()
    latencies, errors = [], 0
    for _ in workers:
        worker_latencies, worker_errors = queue.get(timeout=duration + 60)
        latencies += worker_latencies
        errors += worker_errors
    for worker in workers:
        worker.join(timeout=10)
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "rps": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p95_ms": _percentile(latencies, 0.95) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "errors": errors,
        "tool": "python",
    }
