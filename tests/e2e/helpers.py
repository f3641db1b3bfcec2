"""What the browser journeys share: logging in, screenshots, the accessibility scan, PDF checks."""

import json
import re
import subprocess
import tempfile
from pathlib import Path

from django.templatetags.static import static

from core.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_STATIC = "vendor/axe/axe.min.js"  # static/vendor/axe/axe.min.js, axe-core from the npm registry
# WCAG 2.1 level A and AA success criteria (axe tags).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
# Closing a deliberation renders every document (PV, letters, certificates, archive): in-process without a
# worker, the closing request only answers when they are all rendered.
CLOSING_TIMEOUT = 180_000
TABLET = {"width": 820, "height": 1180}  # a 10.9" tablet held upright, where evaluators score in the room


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:120]


def screenshot(page, name, *, full_page=True):
    """Save what a person sees to test-artifacts/<name>.png (kept as a CI artifact)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{safe_name(name)}.png"
    page.screenshot(path=path, full_page=full_page)
    return path


def login(page, username, password=DEMO_PASSWORD):
    """Log in through the form, as a person would (labels, not CSS selectors)."""
    page.goto("/compte/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert "/compte/connexion/" not in page.url, f"la connexion de {username} a échoué"
    return page


def logout(page):
    # The account menu (the user's name in the header) holds the logout button.
    page.locator("#menu-compte").click()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/compte/connexion/**")


def accept_confirmations(page):
    """Accept every window.confirm (data-confirm on irreversible actions) and record the questions asked.

    Idempotent per page: the same list is returned on each call, the newest question last.
    """
    asked = getattr(page, "_e2e_confirmations", None)
    if asked is not None:
        return asked
    asked = []

    def handle(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", handle)
    page._e2e_confirmations = asked
    return asked


def check_accessibility(page, name, *, tags=WCAG_TAGS):
    """Run axe-core (vendored, injected by Playwright) on the current page; fail on serious/critical issues.

    The full result is kept in test-artifacts/axe/<name>.json so a reader can see minor issues too.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # The vendored file is served by the app itself, so the page's Content-Security-Policy
        # (script-src 'self') allows it: the scan runs with the real CSP on, never with bypass_csp.
        page.add_script_tag(url=static(AXE_STATIC))
    results = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return {url: r.url, violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300),
                                          summary: n.failureSummary}))}))};
        }""",
        tags,
    )
    out = ARTIFACTS / "axe"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{safe_name(name)}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe ({name}, {results['url']}) :\n" + "\n".join(
        f"- [{v['impact']}] {v['id']}: {v['help']} → "
        + "; ".join(f"{n['target']} {n['summary']}" for n in v["nodes"][:5])
        for v in blocking
    )
    return results


def assert_no_horizontal_scroll(page, name=""):
    """Nothing sticks out sideways: the page fits the viewport's width (desktop and tablet)."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name} déborde horizontalement : {widths[0]} px pour {widths[1]} px"


def scan(page, name):
    """Screenshot + accessibility scan of a main page, which must also fit the window's width."""
    screenshot(page, name)
    assert_no_horizontal_scroll(page, name)
    return check_accessibility(page, name)


def pdf_pages_to_png(pdf, name, *, min_ink_ratio=0.002, dpi=60):
    """Render each page of a PDF (bytes or path) to test-artifacts/<name>-<n>.png and check none is blank.

    A page counts as blank when fewer than `min_ink_ratio` of its pixels are darker than near-white.
    """
    from PIL import Image

    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "document.pdf"
        source.write_bytes(pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes())
        prefix = ARTIFACTS / safe_name(name)
        for old in ARTIFACTS.glob(f"{prefix.name}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(prefix)], check=True, timeout=60)
    pages = sorted(ARTIFACTS.glob(f"{prefix.name}-*.png"))
    assert pages, f"pdftoppm n'a produit aucune page pour {name}"
    for png in pages:
        with Image.open(png) as image:
            grey = image.convert("L")
            histogram = grey.histogram()
            ink = sum(histogram[:245])
            total = grey.width * grey.height
        assert ink / total >= min_ink_ratio, f"page blanche : {png.name} ({ink} pixels encrés sur {total})"
    return pages


def sent_emails(worker=None):
    """Emails sent so far: Django's locmem outbox (tasks in-process) and, with a real worker, its files.

    Returns a list of (to, subject, text body).
    """
    import email
    from email import policy

    from django.core import mail

    found = [(list(m.to), m.subject, m.body) for m in getattr(mail, "outbox", [])]
    email_dir = getattr(worker, "email_dir", None)
    if email_dir is not None:
        for path in sorted(Path(email_dir).glob("*.log")):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if not chunk.strip():
                    continue
                message = email.message_from_bytes(chunk.strip(), policy=policy.default)
                body = message.get_body(preferencelist=("plain",))
                found.append(
                    ([message["To"]], str(message["Subject"]), body.get_content() if body is not None else "")
                )
    return found


def wait_for_email(worker, *, to, subject_contains, timeout=30):
    """The text of the latest email to `to` whose subject contains `subject_contains` (polls the worker)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        matching = [
            body for rcpt, subject, body in sent_emails(worker) if to in rcpt and subject_contains in subject
        ]
        if matching:
            return matching[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"aucun courriel « {subject_contains} » envoyé à {to}")
        time.sleep(0.3)


class StepTimer:
    """Durations of a journey's steps, written to test-artifacts/<name>-durees.txt (where the time goes)."""

    def __init__(self, name):
        import time

        self._clock = time.monotonic
        self.name = name
        self.started = self.last = self._clock()
        self.lines = []

    def __call__(self, label):
        now = self._clock()
        self.lines.append(f"{now - self.last:7.1f} s  {label}")
        self.last = now
        ARTIFACTS.mkdir(exist_ok=True)
        total = f"{now - self.started:7.1f} s  total"
        (ARTIFACTS / f"{safe_name(self.name)}-durees.txt").write_text("\n".join([*self.lines, total]) + "\n")


def wait_for_session_documents(session, timeout=120):
    """Until every document of `session` is produced (a real worker renders them with a broker, CI;
    in-process without, where this returns at once). Fails on a failed document or past `timeout`."""
    import time

    from deliberations.models import DocumentStatus, GeneratedDocument

    deadline = time.monotonic() + timeout
    while True:
        statuses = set(GeneratedDocument.objects.filter(session=session).values_list("status", flat=True))
        assert DocumentStatus.FAILED not in statuses, "un document de la session n'a pas pu être produit"
        if statuses and not statuses & {DocumentStatus.QUEUED, DocumentStatus.RENDERING}:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"documents de la session non produits en {timeout} s")
        time.sleep(0.3)
