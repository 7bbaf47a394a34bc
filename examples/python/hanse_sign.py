#!/usr/bin/env python3
"""Reference signer for Hanse transactions, written from docs/signing.md.

Needs `pip install cryptography gmssl==3.2.2` (gmssl only for SM2).

  hanse_sign.py --vectors            print test vectors for docs/signing-vectors.json
  hanse_sign.py --check FILE         recompute and verify every vector in FILE
  hanse_sign.py --sign < request     sign one transaction: JSON {algorithm, secret, fields} on stdin
"""
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DOMAIN = b"HANSE-TX"
VERSION = 1


def field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def valid_until(kind: str, value: int) -> bytes:
    return bytes([{"height": 1, "unix_ms": 2}[kind]]) + struct.pack(">Q", value)


def signed_bytes(fields: dict) -> bytes:
    """The bytes to sign: domain tag, version, then the nine fields in order, length-prefixed."""
    return (DOMAIN + bytes([VERSION])
            + field(fields["chain_id"].encode()) + field(fields["contract"].encode())
            + field(fields["method"].encode()) + field(bytes.fromhex(fields["args_hex"]))
            + field(bytes.fromhex(fields["nonce_hex"]))
            + field(valid_until(fields["valid_until"]["kind"], fields["valid_until"]["value"]))
            + field(bytes.fromhex(fields["signer_hex"])) + field(fields["algorithm"].encode())
            + field(struct.pack(">Q", fields["gas_limit"])))


def public_key(algorithm: str, secret: bytes) -> bytes:
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if algorithm == "p256":
        key = ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1())
        return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    if algorithm == "sm2":
        from gmssl import sm2
        crypt = sm2.CryptSM2(private_key=secret.hex(), public_key="")
        return bytes.fromhex("04" + crypt._kg(int(secret.hex(), 16), sm2.default_ecc_table["g"]))
    raise ValueError(algorithm)


def sign(algorithm: str, secret: bytes, message: bytes) -> bytes:
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(secret).sign(message)
    if algorithm == "p256":
        key = ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1())
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if algorithm == "sm2":
        from gmssl import sm2
        crypt = sm2.CryptSM2(private_key=secret.hex(), public_key=public_key("sm2", secret)[1:].hex())
        return bytes.fromhex(crypt.sign_with_sm3(message))
    raise ValueError(algorithm)


def verify(algorithm: str, public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        if algorithm == "ed25519":
            ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
            return True
        if algorithm == "p256":
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public).verify(der, message, ec.ECDSA(hashes.SHA256()))
            return True
        if algorithm == "sm2":
            from gmssl import sm2
            return bool(sm2.CryptSM2(private_key=None, public_key=public[1:].hex()).verify_with_sm3(signature.hex(), message))
    except InvalidSignature:
        return False
    raise ValueError(algorithm)


def sign_transaction(algorithm: str, secret: bytes, fields: dict) -> dict:
    fields = dict(fields, algorithm=algorithm, signer_hex=public_key(algorithm, secret).hex())
    message = signed_bytes(fields)
    return {"algorithm": algorithm, "secret_hex": secret.hex(), "fields": fields, "signed_bytes_hex": message.hex(),
            "tx_id_hex": hashlib.sha256(message).hexdigest(), "signature_hex": sign(algorithm, secret, message).hex()}


SECRETS = {
    # RFC 8032 section 7.1, test 1.
    "ed25519": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    # RFC 6979 appendix A.2.5.
    "p256": "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
    "sm2": "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
}


def vectors() -> list:
    base = {"chain_id": "acme-supply", "contract": "receivables", "method": "transfer",
            "args_hex": b'{"amount":250,"to":"bob"}'.hex(), "nonce_hex": "000102030405060708090a0b0c0d0e0f",
            "valid_until": {"kind": "height", "value": 1000}, "gas_limit": 1000000}
    result = [sign_transaction(alg, bytes.fromhex(secret), base) for alg, secret in SECRETS.items()]
    timed = dict(base, method="redeem", args_hex=b"{}".hex(), valid_until={"kind": "unix_ms", "value": 1795219200000})
    result.append(sign_transaction("ed25519", bytes.fromhex(SECRETS["ed25519"]), timed))
    return result


def check(vector: dict) -> None:
    fields = vector["fields"]
    assert public_key(vector["algorithm"], bytes.fromhex(vector["secret_hex"])).hex() == fields["signer_hex"], "public key"
    message = signed_bytes(fields)
    assert message.hex() == vector["signed_bytes_hex"], "signed bytes"
    assert hashlib.sha256(message).hexdigest() == vector["tx_id_hex"], "tx id"
    assert verify(vector["algorithm"], bytes.fromhex(fields["signer_hex"]), message, bytes.fromhex(vector["signature_hex"])), "signature"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--vectors"]:
        json.dump(vectors(), sys.stdout, indent=2)
        print()
    elif sys.argv[1:2] == ["--check"]:
        for vector in json.load(open(sys.argv[2])):
            check(vector)
        print("ok")
    elif sys.argv[1:2] == ["--sign"]:
        request = json.load(sys.stdin)
        json.dump(sign_transaction(request["algorithm"], bytes.fromhex(request["secret_hex"]), request["fields"]), sys.stdout)
    else:
        print(__doc__)
        sys.exit(2)
