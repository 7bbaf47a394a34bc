#!/usr/bin/env python3
"""Verifies Hanse ledger proofs with nothing but SHA-256 and docs/ledger.md.

  verify_proof.py PROOF.json        exit 0 and print "ok" if the proof holds, else exit 1 with why
  verify_proof.py --vectors FILE    check every inclusion/consistency case of a transparency-dev
                                    vectors file (base64 fields) against its wantErr

PROOF.json (hex fields):
  {"kind": "inclusion", "index": 5, "size": 8, "leaf_hash": "…", "proof": ["…"], "root": "…"}
  {"kind": "consistency", "size1": 3, "size2": 8, "proof": ["…"], "root1": "…", "root2": "…"}
A transaction's leaf hash is SHA-256(0x00 || tx_id).
"""
import base64
import hashlib
import json
import sys


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def verify_inclusion(index, size, leaf_hash, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        raise ValueError(f"index {index} is not below size {size}")
    if any(len(h) != 32 for h in [leaf_hash, *proof]):
        raise ValueError("every hash must be 32 bytes")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ValueError("proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("proof too short")
    if r != root:
        raise ValueError("proof leads to another root")


def verify_consistency(size1, size2, proof, root1, root2):
    """RFC 9162 section 2.1.4.2, with equal sizes needing an empty proof and equal roots."""
    if size1 > size2:
        raise ValueError("first size is larger")
    if size1 == 0:
        raise ValueError("a proof from the empty tree is meaningless")
    if any(len(h) != 32 for h in proof):
        raise ValueError("every hash must be 32 bytes")
    if size1 == size2:
        if proof or root1 != root2:
            raise ValueError("equal sizes need an empty proof and equal roots")
        return
    if not proof:
        raise ValueError("empty proof")
    path = ([root1] if size1 & (size1 - 1) == 0 else []) + list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ValueError("proof too long")
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("proof too short")
    if fr != root1 or sr != root2:
        raise ValueError("proof leads to other roots")


def check(case, decode):
    proof = [decode(p) for p in (case.get("proof") or [])]
    if case["kind"] == "inclusion":
        verify_inclusion(case.get("index", case.get("leafIdx")), case.get("size", case.get("treeSize")),
                         decode(case.get("leaf_hash", case.get("leafHash"))), proof, decode(case["root"]))
    elif case["kind"] == "consistency":
        verify_consistency(case["size1"], case["size2"], proof, decode(case["root1"]), decode(case["root2"]))
    else:
        raise ValueError(f"unknown kind {case['kind']}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--vectors"]:
        checked = 0
        for line in open(sys.argv[2]):
            case = json.loads(line)
            if case["kind"] not in ("inclusion", "consistency"):
                continue
            try:
                check(case, lambda text: base64.b64decode(text or ""))
                failed = False
            except ValueError:
                failed = True
            if failed != case["wantErr"]:
                print(f"wrong verdict: {case.get('source_path', '')} {case.get('desc', '')}")
                sys.exit(1)
            checked += 1
        print(f"ok: {checked} vectors")
    else:
        try:
            check(json.load(open(sys.argv[1])), bytes.fromhex)
        except ValueError as error:
            print(f"invalid: {error}")
            sys.exit(1)
        print("ok")
