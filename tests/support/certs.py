"""Throwaway PKIs for tests: a CA, and certificates it signs, as an operator or a PSAP
would make them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Pair = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: Pair | None,
    *extensions: x509.ExtensionType,
) -> x509.Certificate:
    """A certificate for `key`, valid for an hour, signed by `issuer` (self-signed when
    None)."""
    now = dt.datetime.now(dt.UTC)
    issuer_name = issuer[0].subject if issuer else _name(subject)
    signer = issuer[1] if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
        )
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signer, hashes.SHA256())


def usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def new_ca(subject: str) -> Pair:
    key = ec.generate_private_key(ec.SECP256R1())
    ca = issue(subject, key, None, x509.BasicConstraints(ca=True, path_length=None), usage(ca=True))
    return ca, key


def new_leaf(subject: str, ca: Pair, *extensions: x509.ExtensionType) -> Pair:
    """A certificate that is no CA, signed by `ca`, with its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.BasicConstraints(ca=False, path_length=None), usage(ca=False))
    return issue(subject, key, ca, *leaf, *extensions), key


def alternative_names(names: list[str]) -> x509.SubjectAlternativeName:
    """Host names, or IP addresses, that a server's certificate holds."""
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general)


def server_auth() -> x509.ExtendedKeyUsage:
    return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])


def write(cert_file: Path, cert: x509.Certificate, key_file: Path | None = None, key=None) -> None:
    """PEM files: the certificate (readable to all) and, if given, its key (owner only)."""
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    cert_file.chmod(0o644)
    if key_file is not None:
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)


def write_certificates(directory: Path, names: list[str]) -> Path:
    """The files deploy/nats/certs/README.md names, in `directory` (readable to the
    containers' users, the key excepted): ca.pem, and server.pem with server-key.pem
    naming `names`. Returns ca.pem's path."""
    ca = new_ca("Peerline test region CA")
    server, key = new_leaf(names[0], ca, alternative_names(names), server_auth())
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    write(directory / "ca.pem", ca[0])
    write(directory / "server.pem", server, directory / "server-key.pem", key)
    return directory / "ca.pem"


def trusting(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))
