"""DSSE with securesystemslib, the independent implementation the Rust envelopes must match.

Usage:
  dsse.py keygen --type ed25519|ecdsa --out PREFIX
      writes PREFIX.key (PKCS#8 PEM, mode 0600), PREFIX.pub (SPKI PEM) and PREFIX.json
      (securesystemslib's public key JSON); prints the keyid.
  dsse.py sign --key PREFIX.key [--key PREFIX.key]... --payload-type TYPE < PAYLOAD
      prints the envelope JSON, with one signature per key (PKCS#8 PEM private keys).
  dsse.py verify --trusted FILE [--trusted FILE]... [--threshold N] < ENVELOPE
      FILE is a SPKI PEM or securesystemslib JSON public key; writes the payload bytes to
      stdout and exits 0 when verified, else prints the reason to stderr and exits 1.
"""
import argparse
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, SSlibKey


def load_public(path: str) -> SSlibKey:
    with open(path, "rb") as f:
        data = f.read()
    if data.lstrip().startswith(b"{"):
        obj = json.loads(data)
        keyid = obj.pop("keyid", None)
        if not keyid:
            # securesystemslib's default keyid: SHA-256 of the canonical JSON of the key.
            keyid = hashlib.sha256(encode_canonical(obj).encode()).hexdigest()
        return SSlibKey.from_dict(keyid, obj)
    return SSlibKey.from_crypto(serialization.load_pem_public_key(data))


def keygen(args) -> int:
    signer = CryptoSigner.generate_ed25519() if args.type == "ed25519" else CryptoSigner.generate_ecdsa()
    private_pem = signer._private_key.private_bytes(  # noqa: SLF001
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(args.out + ".key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private_pem)
    public_pem = signer._private_key.public_key().public_bytes(  # noqa: SLF001
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with open(args.out + ".pub", "wb") as f:
        f.write(public_pem)
    with open(args.out + ".json", "w") as f:
        json.dump(signer.public_key.to_dict(), f)
    print(signer.public_key.keyid)
    return 0


def sign(args) -> int:
    payload = sys.stdin.buffer.read()
    envelope = Envelope(payload=payload, payload_type=args.payload_type, signatures={})
    for path in args.key:
        with open(path, "rb") as f:
            private_key = serialization.load_pem_private_key(f.read(), password=None)
        envelope.sign(CryptoSigner(private_key))
    json.dump(envelope.to_dict(), sys.stdout)
    return 0


def verify(args) -> int:
    keys = [load_public(path) for path in args.trusted]
    try:
        envelope = Envelope.from_dict(json.loads(sys.stdin.buffer.read()))
        envelope.verify(keys, args.threshold)
    except Exception as e:  # noqa: BLE001 - any failure is a verification failure
        print(f"verification failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(envelope.payload)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("keygen")
    p.add_argument("--type", choices=["ed25519", "ecdsa"], required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(run=keygen)
    p = sub.add_parser("sign")
    p.add_argument("--key", action="append", required=True)
    p.add_argument("--payload-type", required=True)
    p.set_defaults(run=sign)
    p = sub.add_parser("verify")
    p.add_argument("--trusted", action="append", required=True)
    p.add_argument("--threshold", type=int, default=1)
    p.set_defaults(run=verify)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
