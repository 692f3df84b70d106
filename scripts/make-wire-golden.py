#!/usr/bin/env python3
"""Independent implementation of docs/wire-format.md that writes fixtures/wire-golden.json.

Python's hashlib (BLAKE2b) and pyca/cryptography (Ed25519) only; no Swift code involved, so
the Swift encoder, decoder and ids are checked against the specification, not against
themselves. Run: python3 scripts/make-wire-golden.py
"""
import hashlib, json, struct, pathlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

def H(tag, data):
    t = tag.encode()
    return hashlib.blake2b(bytes([len(t)]) + t + data, digest_size=32).digest()

def u32(v): return struct.pack(">I", v)
def u64(v): return struct.pack(">Q", v)
def u128(v): return v.to_bytes(16, "big")

def key(seed, index):
    sk = Ed25519PrivateKey.from_private_bytes(H("chanlab/key/v1", u64(seed) + u32(index)))
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk

SEED = 7
channel = H("chanlab/channel-id/v1", u64(SEED))
funding_sk, funding_pk = key(SEED, 0xFFFFFFFF)
keys = [key(SEED, i) for i in range(3)]

def receipt(author, token, amount, nonce, height):
    d = H("chanlab/deposit-receipt/v1", channel + u32(author) + u32(token) + u128(amount) + u64(nonce) + u64(height))
    return funding_sk.sign(d)

def anchor_sig(height):
    return funding_sk.sign(H("chanlab/chain-anchor/v1", channel + u64(height)))

def op(author, seq, preds, kind, payload):
    preds = sorted(set(preds))
    unsigned = bytes([1]) + channel + u32(author) + u64(seq) + bytes([len(preds)]) + b"".join(preds) + bytes([kind]) + payload
    op_id = H("chanlab/op-id/v1", unsigned)
    sig = keys[author][0].sign(H("chanlab/op-sig/v1", channel + op_id))
    return unsigned, op_id, sig

vectors = []
def add(name, author, seq, preds, kind, payload):
    unsigned, op_id, sig = op(author, seq, preds, kind, payload)
    vectors.append(dict(name=name, author=author, seq=seq, unsigned=unsigned.hex(), id=op_id.hex(), signed=(unsigned + sig).hex()))
    return op_id

a1 = add("deposit", 0, 1, [], 0x01, u32(0) + u128(1000) + u64(1) + u64(3) + receipt(0, 0, 1000, 1, 3))
b1 = add("deposit-2", 1, 1, [], 0x01, u32(1) + u128(2**96 - 1) + u64(2) + u64(3) + receipt(1, 1, 2**96 - 1, 2, 3))
a2 = add("transfer", 0, 2, [a1, b1], 0x02, u32(1) + u32(0) + u128(250))
a3 = add("withdraw", 0, 3, [a2], 0x03, u32(0) + u128(1))
a4 = add("lock", 0, 4, [a3], 0x04, u32(0) + u128(100) + u64(9))
c1 = add("anchor", 2, 1, [a4, b1], 0x06, u64(9) + anchor_sig(9))
add("unlock", 0, 5, [a4, c1], 0x05, a4)

out = dict(
    spec="docs/wire-format.md", labSeed=SEED, channel=channel.hex(), fundingPublicKey=funding_pk.hex(),
    publicKeys=[pk.hex() for _, pk in keys], vectors=vectors)
path = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "wire-golden.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {len(vectors)} vectors to {path}")
