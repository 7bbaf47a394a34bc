#!/usr/bin/env python3
"""Cross-checks Hanse's signatures with independent implementations: the `cryptography`
package (OpenSSL underneath, used here through its own API) for P-256 and Ed25519, and the
pure-Python `gmssl` package for SM2 with SM3 and the default user id.

Reads JSON from stdin: {"verify": [{alg, pub, msg, sig}], "sign": [{alg, msg}]} (hex fields)
and prints {"verified": [bool], "signed": [{alg, pub, msg, sig}]}. Raw formats: public keys are
32 bytes (Ed25519) or 0x04 || x || y; signatures are 64 bytes (r || s, or Ed25519's R || S).
"""
import json
import secrets
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from gmssl import sm2

SM2_N = int(sm2.default_ecc_table["n"], 16)


def verify(case):
    alg, pub, msg, sig = case["alg"], bytes.fromhex(case["pub"]), bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"])
    if alg == "ed25519":
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
            return True
        except InvalidSignature:
            return False
    if alg == "p256":
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            key.verify(der, msg, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False
    if alg == "sm2":
        crypt = sm2.CryptSM2(private_key=None, public_key=pub[1:].hex())
        return bool(crypt.verify_with_sm3(sig.hex(), msg))
    raise ValueError(alg)


def sign(case):
    alg, msg = case["alg"], bytes.fromhex(case["msg"])
    if alg == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        sig = key.sign(msg)
    elif alg == "p256":
        key = ec.generate_private_key(ec.SECP256R1())
        pub = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "sm2":
        private = format(secrets.randbelow(SM2_N - 2) + 1, "064x")
        crypt = sm2.CryptSM2(private_key=private, public_key="")
        public = crypt._kg(int(private, 16), sm2.default_ecc_table["g"])
        crypt = sm2.CryptSM2(private_key=private, public_key=public)
        pub = bytes.fromhex("04" + public)
        sig = bytes.fromhex(crypt.sign_with_sm3(msg))
    else:
        raise ValueError(alg)
    return {"alg": alg, "pub": pub.hex(), "msg": msg.hex(), "sig": sig.hex()}


request = json.load(sys.stdin)
json.dump({"verified": [verify(c) for c in request["verify"]], "signed": [sign(c) for c in request["sign"]]}, sys.stdout)
