"""The certifier's electronic seal: a PAdES signature (pyHanko) on the PV, parchemins and bloc
attestations, and its check on the public verification page.

The certificate comes from a PKCS#12 file named by the environment (`CQPM_SEAL_PKCS12_PATH`, its
password in `CQPM_SEAL_PKCS12_PASSWORD`). Without one:
- where demo data are allowed (`DEMO_DATA_ALLOWED`, or `CQPM_SEAL_DEMO=true`), a self-signed
  certificate named « CERTIFICAT DE DÉMONSTRATION — SANS VALEUR » is generated once and kept in the
  storage (`seal/demo-seal.p12`, shared by web and workers), then reused;
- otherwise (production without certificate) documents are produced unsigned; `status()` says so and
  the documents page shows it.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)

DEMO_NAME = "CERTIFICAT DE DÉMONSTRATION — SANS VALEUR"
DEMO_STORAGE_NAME = "seal/demo-seal.p12"
DEMO_PASSWORD = b"demo-sans-valeur"  # a demo certificate protects nothing: its password is public
FIELD_NAME = "CachetCertificateur"
SIGNATURE_BYTES = 16384  # a CMS container with a certificate chain of a few certificates


class SealConfigurationError(Exception):
    """The configured certificate cannot be used (missing file, wrong password)."""


@dataclass(frozen=True)
class Seal:
    signer: object  # pyhanko.sign.signers.SimpleSigner
    certificate: object  # asn1crypto.x509.Certificate
    subject: str
    is_demo: bool


@dataclass(frozen=True)
class SealCheck:
    """What the verification page tells about a stored file's signature."""

    signed: bool
    intact: bool = False  # the signed bytes were not changed
    valid: bool = False  # the signature itself is mathematically valid
    trusted: bool = False  # made with the certifier's current certificate
    signer: str = ""
    signed_at: datetime | None = None


def _config():
    config = getattr(settings, "CQPM_SEAL", {}) or {}
    demo = config.get("DEMO")
    if demo is None:
        demo = getattr(settings, "DEMO_DATA_ALLOWED", False)
    return config.get("PKCS12_PATH", ""), config.get("PKCS12_PASSWORD", ""), bool(demo)


_cache: dict = {}


def _outside_event_loop(function, *args, **kwargs):
    """Call one of pyHanko's synchronous functions. They run `asyncio.run()`, which refuses to start in
    a thread that already runs an event loop (an ASGI server, Playwright's synchronous API driving a
    browser test): there, the call goes to a worker thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


PYHANKO_MODULES = (
    "pyhanko.pdf_utils.incremental_writer",
    "pyhanko.pdf_utils.reader",
    "pyhanko.sign.fields",
    "pyhanko.sign.signers",
    "pyhanko.sign.validation",
    "pyhanko_certvalidator",
)


def preload_code():
    """Import pyHanko's signing and validation code now (about 0.7 s of imports): called when a
    worker or web process starts, so that the first sealed document or verification does not pay it.
    Kept lazy otherwise: commands and tests that never seal do not load it."""
    for module in PYHANKO_MODULES:
        importlib.import_module(module)


def reset_cache():
    """Forget the loaded certificate (tests, or after changing the configuration)."""
    _cache.clear()


def _signer_class(base):
    """pyHanko's SimpleSigner loads (and checks) the private key again for every signature: 0.14 s for
    an RSA key, twice per document. This one keeps the key loaded once per process."""

    class PreloadedKeySigner(base):
        def __init__(self, *, crypto_key, **kwargs):
            super().__init__(**kwargs)
            self._crypto_key = crypto_key

        def sign_raw(self, data, digest_algorithm):
            from cryptography.hazmat.primitives.asymmetric import ec, rsa
            from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
            from pyhanko.sign.general import get_pyca_cryptography_hash

            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            hash_algo = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(self._crypto_key, rsa.RSAPrivateKey):
                return self._crypto_key.sign(data, PKCS1v15(), hash_algo)
            if mechanism == "ecdsa" and isinstance(self._crypto_key, ec.EllipticCurvePrivateKey):
                return self._crypto_key.sign(data, ec.ECDSA(hash_algo))
            return super().sign_raw(data, digest_algorithm)

    return PreloadedKeySigner


def _load(data: bytes, password: bytes, *, is_demo: bool) -> Seal:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    try:
        key, cert, others = pkcs12.load_key_and_certificates(data, password or None)
    except ValueError as exc:
        raise SealConfigurationError(
            "Le certificat du cachet (PKCS#12) ne peut pas être ouvert : mot de passe ou fichier invalide."
        ) from exc
    if key is None or cert is None:
        raise SealConfigurationError("Le certificat du cachet (PKCS#12) ne contient pas de clé utilisable.")
    certificate = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    chain = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in others or []]
    signer = _signer_class(signers.SimpleSigner)(
        crypto_key=key,
        signing_cert=certificate,
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        ),
        cert_registry=SimpleCertificateStore.from_certs([certificate, *chain]),
    )
    return Seal(signer=signer, certificate=certificate, subject=_common_name(certificate), is_demo=is_demo)


def _common_name(certificate) -> str:
    subject = certificate.subject.native
    return (
        subject.get("common_name") or subject.get("organization_name") or certificate.subject.human_friendly
    )


def _demo_pkcs12() -> bytes:
    """A self-signed RSA certificate for demonstrations, clearly named as such."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEMO_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Démonstration CQPM — sans valeur"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"demo-seal", key, certificate, None, BestAvailableEncryption(DEMO_PASSWORD)
    )


def _demo_seal() -> Seal:
    """The demo certificate from the storage, generated once (the first writer wins a race)."""
    if not default_storage.exists(DEMO_STORAGE_NAME):
        name = default_storage.save(DEMO_STORAGE_NAME, ContentFile(_demo_pkcs12()))
        if name != DEMO_STORAGE_NAME:  # another process wrote it meanwhile: keep theirs
            default_storage.delete(name)
        else:
            logger.warning("Certificat de démonstration du cachet créé : %s (sans valeur)", name)
    with default_storage.open(DEMO_STORAGE_NAME, "rb") as handle:
        return _load(handle.read(), DEMO_PASSWORD, is_demo=True)


def current() -> Seal | None:
    """The seal documents are signed with, or None (production without certificate)."""
    if "seal" in _cache:
        return _cache["seal"]
    path, password, demo = _config()
    if path:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise SealConfigurationError(
                f"Le certificat du cachet est introuvable ({path}) : vérifiez CQPM_SEAL_PKCS12_PATH."
            ) from exc
        seal = _load(data, password.encode() if isinstance(password, str) else password, is_demo=False)
    elif demo:
        seal = _demo_seal()
    else:
        seal = None
    _cache["seal"] = seal
    return seal


def status() -> dict:
    """For the documents page: is the seal configured, and with which certificate?"""
    try:
        seal = current()
    except SealConfigurationError as exc:
        return {"configured": False, "error": str(exc), "subject": "", "is_demo": False}
    except OSError:  # the storage holding the demo certificate is unreachable: say so, no 500
        logger.warning("Certificat du cachet illisible", exc_info=True)
        return {
            "configured": False,
            "error": "Le certificat du cachet est momentanément illisible (stockage indisponible).",
            "subject": "",
            "is_demo": False,
        }
    if seal is None:
        return {"configured": False, "error": "", "subject": "", "is_demo": False}
    return {"configured": True, "error": "", "subject": seal.subject, "is_demo": seal.is_demo}


def sign(content: bytes, *, reason: str, location: str) -> tuple[bytes, str]:
    """(signed bytes, signer's name) — or (the same bytes, "") when no seal is configured."""
    seal = current()
    if seal is None:
        return content, ""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(content))
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason,
        location=location,
        name=seal.subject,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    # The room kept for the CMS container is fixed (no trial signature to measure it).
    output = _outside_event_loop(
        signers.sign_pdf, writer, metadata, signer=seal.signer, bytes_reserved=SIGNATURE_BYTES
    )
    return output.getvalue(), seal.subject


# The verification page checks the stored file at each request; pyHanko's validation costs ~80 ms.
# Its answer depends only on the file's bytes, the trust root and (for certificate validity) the day:
# it is kept in the cache under the file's SHA-256 and the current certificate's fingerprint.
CHECK_CACHE_SECONDS = 24 * 3600


def _trust_fingerprint() -> str:
    try:
        seal = current()
    except (SealConfigurationError, OSError):
        seal = None
    return seal.certificate.sha256.hex() if seal is not None else "none"


def cached_check(content: bytes, sha256: str) -> SealCheck:
    """`check(content)` remembered under the content's SHA-256 (hex, computed by the caller) and the
    certificate trusted now: a file changed by one byte has another digest and is validated again."""
    from django.core.cache import cache

    key = f"seal-check:v1:{sha256}:{_trust_fingerprint()}"
    try:
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - an unreachable cache only costs the validation
        logger.warning("Cache indisponible pour la vérification du cachet", exc_info=True)
        found = None
    if isinstance(found, SealCheck):
        return found
    result = check(content)
    try:
        cache.set(key, result, CHECK_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("Cache indisponible pour la vérification du cachet", exc_info=True)
    return result


def check(content: bytes) -> SealCheck:
    """Validate the signature of a stored file (pyHanko's validator, the certifier's certificate as
    the only trust root, nothing fetched from the network)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # noqa: BLE001 - an unreadable file is simply not a valid signed file
        logger.warning("Fichier illisible à la vérification du cachet", exc_info=True)
        return SealCheck(signed=False)
    if not signatures:
        return SealCheck(signed=False)
    try:
        seal = current()
    except (SealConfigurationError, OSError):
        seal = None
    roots = [seal.certificate] if seal is not None else []
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    embedded = signatures[0]
    try:
        result = _outside_event_loop(validate_pdf_signature, embedded, context)
    except Exception:  # noqa: BLE001 - a mangled signature is reported as broken, not as a 500
        logger.warning("Signature illisible à la vérification du cachet", exc_info=True)
        return SealCheck(signed=True)
    # The signature must cover the whole file: bytes appended after it are a modification too.
    covers_all = embedded.coverage is not None and embedded.coverage.name in ("ENTIRE_FILE",)
    return SealCheck(
        signed=True,
        intact=bool(result.intact) and covers_all,
        valid=bool(result.valid),
        trusted=bool(result.trusted),
        signer=_common_name(result.signing_cert) if result.signing_cert else "",
        signed_at=result.signer_reported_dt,
    )
