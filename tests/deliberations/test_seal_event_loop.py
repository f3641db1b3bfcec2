"""pyHanko's synchronous API runs `asyncio.run()`: the seal must still sign and check when the calling
thread already runs an event loop (an ASGI server; Playwright's synchronous API in the browser tests,
whose fixtures load the demo data and so produce sealed documents)."""

import asyncio

from deliberations import seal
from deliberations.models import DocumentKind
from tests.deliberations.test_official_documents import (
    closed_session,  # noqa: F401  (fixture)
    current,
    stored,
)


def test_sealing_and_checking_work_inside_a_running_event_loop(closed_session):  # noqa: F811
    session, (awarded, _partial) = closed_session
    content = stored(current(session, DocumentKind.CERTIFICATE, awarded))
    unsigned = content[: content.rfind(b"%%EOF", 0, len(content) - 10) + 5]  # the PDF before its seal

    async def inside_a_loop():
        signed, signer = seal.sign(unsigned, reason="test", location="Nancy")
        return signed, signer, seal.check(signed)

    signed, signer, check = asyncio.run(inside_a_loop())
    assert signer == seal.DEMO_NAME
    assert check.signed and check.intact and check.trusted
