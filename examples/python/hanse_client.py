#!/usr/bin/env python3
"""A Hanse client written from openapi/openapi.yaml, docs/signing.md and docs/ledger.md alone.

  hanse_client.py --url http://127.0.0.1:8080 --operator-token TOKEN [--consensus bft] [--wat FILE]

As the operator it creates a tenant and an API key; as the tenant it provisions a chain, deploys a
contract from WebAssembly text, generates its own P-256 key (the `cryptography` package),
registers it as an external identity, signs a transaction itself (the signed bytes are built here,
not fetched from the server), submits it with wait=commit, and checks the inclusion proof offline:
the transaction's id and signature, the audit path to the block's ledger root, the block hash, and
a quorum of validator signatures, with the validator set pinned to the chain's genesis block.
Prints one line per step; exits 1 with the reason if anything does not hold.
Standard library plus `cryptography` (and hanse_sign.py, verify_proof.py beside this file).
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hanse_sign  # noqa: E402  (the signer of docs/signing.md)
import verify_proof  # noqa: E402  (RFC 9162 proof checks)

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402


class Problem(Exception):
    pass


class Client:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body=None, expect=(200, 201, 202)):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        document = json.loads(payload) if payload else {}
        if status not in expect:
            raise Problem(f"{method} {path}: {status} {document.get('detail', document)}")
        return document


def u32(value: int) -> bytes:
    return struct.pack(">I", value)


def u64(value: int) -> bytes:
    return struct.pack(">Q", value)


def block_hash(block: dict) -> bytes:
    """docs/signing.md, "Block headers and commit certificates"."""
    return hashlib.sha256(
        b"HANSE-BLOCK" + b"\x01" + hanse_sign.field(block["chain_id"].encode()) + u64(block["height"])
        + bytes.fromhex(block["previous_hash"]) + bytes.fromhex(block["tx_root"]) + bytes.fromhex(block["write_set_root"])
        + bytes.fromhex(block["ledger_root"]) + u64(block["ledger_size"]) + u64(block["timestamp"]) + u32(block["proposer"])
        + bytes.fromhex(block["validator_set_hash"])).digest()


def validator_set_hash(validators: list) -> bytes:
    ordered = sorted(validators, key=lambda v: v["index"])
    message = b"HANSE-VALIDATORS" + b"\x01" + u32(len(ordered))
    for validator in ordered:
        message += hanse_sign.field(validator["algorithm"].encode()) + hanse_sign.field(bytes.fromhex(validator["public_key"]))
    return hashlib.sha256(message).digest()


def check_proof(proof: dict, trusted_validator_set: str) -> str:
    """docs/ledger.md, "Checking a transaction without trusting the platform"."""
    signed = __import__("base64").b64decode(proof["signed_bytes"])
    if hashlib.sha256(signed).hexdigest() != proof["tx_id"]:
        raise Problem("tx_id is not the SHA-256 of signed_bytes")
    block = proof["block"]
    if block_hash(block).hex() != block["hash"]:
        raise Problem("the block's fields do not hash to its hash")
    verify_proof.verify_inclusion(proof["leaf_index"], proof["tree_size"], verify_proof.leaf(bytes.fromhex(proof["tx_id"])),
                                  [bytes.fromhex(h) for h in proof["audit_path"]], bytes.fromhex(block["ledger_root"]))
    if proof["tree_size"] != block["ledger_size"]:
        raise Problem("tree_size is not the block's ledger size")
    validators = sorted(proof["validators"], key=lambda v: v["index"])
    set_hash = validator_set_hash(validators).hex()
    if set_hash != block["validator_set_hash"] or set_hash != trusted_validator_set:
        raise Problem("the validators are not the chain's (genesis) set")
    vote = (b"HANSE-COMMIT" + b"\x01" + hanse_sign.field(block["chain_id"].encode()) + u64(block["height"])
            + u32(block["certificate"]["round"]) + bytes.fromhex(block["hash"]))
    signers = set()
    for entry in block["certificate"]["signatures"]:
        validator = validators[entry["validator"]]
        if hanse_sign.verify(validator["algorithm"], bytes.fromhex(validator["public_key"]), vote, bytes.fromhex(entry["signature"])):
            signers.add(entry["validator"])
    quorum = len(validators) * 2 // 3 + 1
    if len(signers) < quorum:
        raise Problem(f"{len(signers)} valid validator signatures, need {quorum}")
    return f"{len(signers)} of {len(validators)} validators signed block {block['height']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--operator-token", required=True)
    parser.add_argument("--consensus", default="bft", choices=["solo", "bft"])
    parser.add_argument("--wat", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../contracts/examples/kv/kv.wat"))
    parser.add_argument("--name", default=f"py-{int(time.time())}")
    options = parser.parse_args()
    try:
        operator = Client(options.url, options.operator_token)
        tenant = operator.call("POST", "/v1/tenants", {"name": options.name})
        key = operator.call("POST", f"/v1/tenants/{tenant['id']}/api-keys", {"name": "python", "scopes": ["admin"]})
        print(f"tenant {tenant['id']} with an admin key")
        api = Client(options.url, key["secret"])

        operation = api.call("POST", "/v1/chains", {"name": "py-chain", "consensus": options.consensus})
        for _ in range(600):
            operation = api.call("GET", f"/v1/operations/{operation['id']}")
            if operation["status"] != "running":
                break
            time.sleep(0.1)
        if operation["status"] != "succeeded":
            raise Problem(f"provisioning: {operation}")
        chain = operation["target_id"]
        genesis = api.call("GET", f"/v1/chains/{chain}/blocks/0")
        print(f"chain {chain} ({options.consensus}), genesis {genesis['hash']}")

        with open(options.wat) as source:
            deployed = api.call("POST", f"/v1/chains/{chain}/contracts?wait=commit", {"name": "kv", "version": "1", "wat": source.read()})
        print(f"deployed kv: {deployed['status']}")

        private = ec.generate_private_key(ec.SECP256R1())
        secret = private.private_numbers().private_value.to_bytes(32, "big")
        public = hanse_sign.public_key("p256", secret)
        api.call("POST", f"/v1/chains/{chain}/identities",
                 {"name": "python-signer", "role": "writer", "mode": "external", "algorithm": "p256", "public_key": public.hex()})
        args = json.dumps({"from": "python"}, separators=(",", ":"))
        signed = hanse_sign.sign_transaction("p256", secret, {
            "chain_id": chain, "contract": "kv", "method": "put", "args_hex": args.encode().hex(),
            "nonce_hex": os.urandom(16).hex(), "valid_until": {"kind": "unix_ms", "value": int(time.time() * 1000) + 600_000},
            "gas_limit": 10_000_000})
        submitted = api.call("POST", f"/v1/chains/{chain}/transactions?wait=commit", {
            "signed_bytes": __import__("base64").b64encode(bytes.fromhex(signed["signed_bytes_hex"])).decode(),
            "signature": signed["signature_hex"]})
        if submitted["tx_id"] != signed["tx_id_hex"] or submitted["status"] != "committed":
            raise Problem(f"submission: {submitted}")
        print(f"transaction {submitted['tx_id']} committed at height {submitted['height']}")

        result = api.call("POST", f"/v1/chains/{chain}/query", {"contract": "kv", "method": "get"})
        if result["result"] != args:
            raise Problem(f"query returned {result['result']!r}, want {args!r}")
        proof = api.call("GET", f"/v1/chains/{chain}/transactions/{submitted['tx_id']}/proof")
        print("proof ok: " + check_proof(proof, genesis["validator_set_hash"]))
        return 0
    except (Problem, ValueError) as error:
        print(f"FAILED: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
