#!/usr/bin/env python3
"""Independent model of the channel replica that writes fixtures/replica-golden.json.

Python's hashlib (BLAKE2b) and pyca/cryptography (Ed25519) only; no Swift code involved. The
model is written from docs/wire-format.md, docs/merge-and-ledger.md and the rejection-record
encoding (Sources/ChannelCore/Wire/RejectionEncoding.swift, docs/wire-format.md "Rejection
records"). It works on the *set* of operations, never on an arrival order:

- hash graph: an operation is accepted when its signature verifies and every predecessor is
  accepted and its author chain holds (seq 1 cites no own operation; seq n cites exactly one,
  with seq n-1), else `brokenAuthorChain`; an operation with a predecessor on record as
  rejected is rejected as `predecessorRejected(p)`, p the smallest (bytewise) such predecessor;
- depth = 1 + max(depth of preds); chainHeight = the greatest height of a verified receipt or
  anchor in the causal past, the operation included;
- the ledger applies accepted operations in (depth, id) order with the rules of
  docs/merge-and-ledger.md, checked in the order of the table;
- a state-dependent refusal (balance, used receipt, unknown or released lock) is judged again
  against the causal past alone (ancestors applied in the same order): class 1 (invalid in
  causal past) if it fails there too, else class 2 (concurrent conflict); every other refusal
  is class 1;
- state leaves and an RFC 6962 Merkle root (recursive definition, BLAKE2b-256), rejection
  records (canonical bytes, sorted by id) and the rejections digest.

Each case is a small, hand-designed operation set; the fixture gives the signed wire bytes in
one delivery order (a causal one) and the expected results, which must not depend on it.
Run: python3 scripts/make-replica-golden.py
"""
import hashlib, json, struct, pathlib
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization

# ---------------------------------------------------------------- primitives (wire-format.md)

def H(tag, data):
    t = tag.encode()
    return hashlib.blake2b(bytes([len(t)]) + t + data, digest_size=32).digest()

def b2(data):
    return hashlib.blake2b(data, digest_size=32).digest()

def u8(v): return bytes([v])
def u32(v): return struct.pack(">I", v)
def u64(v): return struct.pack(">Q", v)
def u128(v): return v.to_bytes(16, "big")
def i128(v): return (v & ((1 << 128) - 1)).to_bytes(16, "big")  # 16-byte two's complement

def key(seed, index):
    sk = Ed25519PrivateKey.from_private_bytes(H("chanlab/key/v1", u64(seed) + u32(index)))
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk

SEED = 7
PARTICIPANTS_MAX = 4
channel = H("chanlab/channel-id/v1", u64(SEED))
funding_sk, funding_pk = key(SEED, 0xFFFFFFFF)
keys = [key(SEED, i) for i in range(PARTICIPANTS_MAX)]

def receipt_digest(ch, participant, token, amount, nonce, height):
    return H("chanlab/deposit-receipt/v1", ch + u32(participant) + u32(token) + u128(amount) + u64(nonce) + u64(height))

def anchor_digest(ch, height):
    return H("chanlab/chain-anchor/v1", ch + u64(height))

def verify(pk_bytes, sig, msg):
    try:
        Ed25519PublicKey.from_public_bytes(pk_bytes).verify(sig, msg)
        return True
    except InvalidSignature:
        return False

# ---------------------------------------------------------------- building operations

DEPOSIT, TRANSFER, WITHDRAW, LOCK, UNLOCK, ANCHOR = 1, 2, 3, 4, 5, 6

class Builder:
    """Signs operations of one case; `labels` maps ids to the names used in the case notes."""
    def __init__(self):
        self.wires = []
        self.pending = []    # every signed operation, delivered or not
        self.labels = {}

    def op(self, label, author, seq, preds, kind, payload, deliver=True):
        preds = sorted(set(preds))
        unsigned = u8(1) + channel + u32(author) + u64(seq) + u8(len(preds)) + b"".join(preds) + u8(kind) + payload
        op_id = H("chanlab/op-id/v1", unsigned)
        sig = keys[author][0].sign(H("chanlab/op-sig/v1", channel + op_id))
        self.labels[op_id] = label
        self.pending.append((label, op_id, unsigned + sig))
        if deliver:
            self.wires.append((label, op_id, unsigned + sig))
        return op_id

    def deposit(self, label, author, seq, preds, token, amount, nonce, height, signer=None, receipt_for=None, deliver=True):
        who = author if receipt_for is None else receipt_for
        sk = funding_sk if signer is None else signer
        sig = sk.sign(receipt_digest(channel, who, token, amount, nonce, height))
        return self.op(label, author, seq, preds, DEPOSIT, u32(token) + u128(amount) + u64(nonce) + u64(height) + sig, deliver)

    def transfer(self, label, author, seq, preds, to, amount, token=0, deliver=True):
        return self.op(label, author, seq, preds, TRANSFER, u32(to) + u32(token) + u128(amount), deliver)

    def withdraw(self, label, author, seq, preds, amount, token=0, deliver=True):
        return self.op(label, author, seq, preds, WITHDRAW, u32(token) + u128(amount), deliver)

    def lock(self, label, author, seq, preds, amount, until, token=0):
        return self.op(label, author, seq, preds, LOCK, u32(token) + u128(amount) + u64(until))

    def unlock(self, label, author, seq, preds, lock_id):
        return self.op(label, author, seq, preds, UNLOCK, lock_id)

    def anchor(self, label, author, seq, preds, height, signer=None):
        sk = funding_sk if signer is None else signer
        return self.op(label, author, seq, preds, ANCHOR, u64(height) + sk.sign(anchor_digest(channel, height)))

# ---------------------------------------------------------------- the model

ROLE_CODES = {"trader": 1, "marketMaker": 2, "liquidator": 3, "oracle": 4, "observer": 5}
HOLD_FUNDS = {"trader", "marketMaker", "liquidator", "oracle"}      # observer may not
CITE_CHAIN_TIME = {"trader", "marketMaker", "liquidator", "oracle", "observer"}

class Op:
    """A decoded signed operation (only what the model needs; the bytes come from the builder)."""
    def __init__(self, wire):
        r = Reader(wire)
        assert r.u8() == 1
        self.channel = r.take(32)
        self.author = r.u32()
        self.seq = r.u64()
        self.preds = [r.take(32) for _ in range(r.u8())]
        self.kind = r.u8()
        if self.kind == DEPOSIT:
            self.token, self.amount, self.nonce, self.height, self.proof = r.u32(), r.u128(), r.u64(), r.u64(), r.take(64)
        elif self.kind == TRANSFER:
            self.to, self.token, self.amount = r.u32(), r.u32(), r.u128()
        elif self.kind == WITHDRAW:
            self.token, self.amount = r.u32(), r.u128()
        elif self.kind == LOCK:
            self.token, self.amount, self.until = r.u32(), r.u128(), r.u64()
        elif self.kind == UNLOCK:
            self.lock_id = r.take(32)
        elif self.kind == ANCHOR:
            self.height, self.proof = r.u64(), r.take(64)
        else:
            raise ValueError("kind")
        unsigned_len = r.pos
        self.sig = r.take(64)
        assert r.pos == len(wire)
        self.unsigned = wire[:unsigned_len]
        self.id = H("chanlab/op-id/v1", self.unsigned)

class Reader:
    def __init__(self, data): self.data, self.pos = data, 0
    def take(self, n):
        out = self.data[self.pos:self.pos + n]
        assert len(out) == n
        self.pos += n
        return out
    def u8(self): return self.take(1)[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]
    def u64(self): return struct.unpack(">Q", self.take(8))[0]
    def u128(self): return int.from_bytes(self.take(16), "big")

class Ledger:
    def __init__(self):
        self.accounts = {}   # (participant, token) -> [balance, locked, withdrawn]
        self.locks = {}      # lock id -> [owner, token, amount, until, released]
        self.used = set()    # receipt nonces

    def copy(self):
        c = Ledger()
        c.accounts = {k: list(v) for k, v in self.accounts.items()}
        c.locks = {k: list(v) for k, v in self.locks.items()}
        c.used = set(self.used)
        return c

    def add(self, who, token, balance=0, locked=0, withdrawn=0):
        acc = self.accounts.setdefault((who, token), [0, 0, 0])
        acc[0] += balance
        acc[1] += locked
        acc[2] += withdrawn

    def bal(self, who, token):
        return self.accounts.get((who, token), [0, 0, 0])[0]

    def apply(self, op, node, cfg):
        """None when applied, else (reason name, parameter bytes, state-dependent?)."""
        role = cfg["roles"][op.author]
        roles, tokens = cfg["roles"], cfg["tokens"]
        hold = role in HOLD_FUNDS
        not_permitted = (f"notPermitted({role})", u8(0x11) + u8(ROLE_CODES[role]), False)
        def unknown_token(t): return (f"unknownToken({t})", u8(0x12) + u32(t), False)
        def insufficient(avail, need): return (f"insufficientBalance(available {avail}, needed {need})", u8(0x16) + i128(avail) + u128(need), True)
        if op.kind == DEPOSIT:
            if not hold: return not_permitted
            if op.token not in tokens: return unknown_token(op.token)
            if not node["proof_ok"]: return ("badChainSignature", u8(0x17), False)
            if op.nonce in self.used: return (f"receiptAlreadyUsed({op.nonce})", u8(0x18) + u64(op.nonce), True)
            self.used.add(op.nonce)
            self.add(op.author, op.token, balance=op.amount)
            return None
        if op.kind == TRANSFER:
            if not hold: return not_permitted
            if op.token not in tokens: return unknown_token(op.token)
            if op.to >= len(roles): return (f"unknownRecipient({op.to})", u8(0x13) + u32(op.to), False)
            if roles[op.to] not in HOLD_FUNDS: return (f"recipientCannotHoldFunds({op.to})", u8(0x14) + u32(op.to), False)
            if op.to == op.author: return ("selfTransfer", u8(0x15), False)
            if self.bal(op.author, op.token) < op.amount: return insufficient(self.bal(op.author, op.token), op.amount)
            self.add(op.author, op.token, balance=-op.amount)
            self.add(op.to, op.token, balance=op.amount)
            return None
        if op.kind == WITHDRAW:
            if not hold: return not_permitted
            if op.token not in tokens: return unknown_token(op.token)
            if self.bal(op.author, op.token) < op.amount: return insufficient(self.bal(op.author, op.token), op.amount)
            self.add(op.author, op.token, balance=-op.amount, withdrawn=op.amount)
            return None
        if op.kind == LOCK:
            if not hold: return not_permitted
            if op.token not in tokens: return unknown_token(op.token)
            if self.bal(op.author, op.token) < op.amount: return insufficient(self.bal(op.author, op.token), op.amount)
            self.add(op.author, op.token, balance=-op.amount, locked=op.amount)
            self.locks[op.id] = [op.author, op.token, op.amount, op.until, False]
            return None
        if op.kind == UNLOCK:
            if not hold: return not_permitted
            lk = self.locks.get(op.lock_id)
            if lk is None: return (f"unknownLock({op.lock_id.hex()})", u8(0x19) + op.lock_id, True)
            if lk[0] != op.author: return (f"lockNotOwned({op.lock_id.hex()})", u8(0x1A) + op.lock_id, False)
            if lk[4]: return (f"lockAlreadyReleased({op.lock_id.hex()})", u8(0x1B) + op.lock_id, True)
            if node["chain_height"] < lk[3]:
                return (f"lockNotExpired(chainHeight {node['chain_height']}, untilHeight {lk[3]})", u8(0x1C) + u64(node["chain_height"]) + u64(lk[3]), False)
            lk[4] = True
            self.add(op.author, lk[1], balance=lk[2], locked=-lk[2])
            return None
        if op.kind == ANCHOR:
            if role not in CITE_CHAIN_TIME: return not_permitted
            if not node["proof_ok"]: return ("badChainSignature", u8(0x17), False)
            return None
        raise ValueError("kind")

    def leaves(self):
        out = []
        for (who, token) in sorted(self.accounts):
            b, l, w = self.accounts[(who, token)]
            out.append(b"A" + u32(who) + u32(token) + i128(b) + i128(l) + i128(w))
        for lid in sorted(self.locks):
            owner, token, amount, until, released = self.locks[lid]
            out.append(b"L" + lid + u32(owner) + u32(token) + u128(amount) + u64(until) + u8(1 if released else 0))
        for nonce in sorted(self.used):
            out.append(b"R" + u64(nonce))
        return out

def merkle_root(leaves):
    """RFC 6962 section 2.1, recursive: MTH(D[n]) splits at the largest power of two < n."""
    def mth(items):
        n = len(items)
        if n == 0: return b2(b"")
        if n == 1: return b2(b"\x00" + items[0])
        k = 1
        while k * 2 < n: k *= 2
        return b2(b"\x01" + mth(items[:k]) + mth(items[k:]))
    return mth(leaves)

def run_model(cfg, wires):
    roles = cfg["roles"]
    pks = [keys[i][1] for i in range(len(roles))]
    ops = {}
    for w in wires:
        op = Op(w)
        # Dropped without a record: another channel, not a participant, bad signature.
        if op.channel != channel or op.author >= len(roles): continue
        if not verify(pks[op.author], op.sig, H("chanlab/op-sig/v1", channel + op.id)): continue
        ops[op.id] = op
    # Hash graph, to a fixpoint (monotone: never depends on the order of the loop).
    status = {}       # id -> "accepted" | "broken" | "predRejected"
    nodes = {}        # accepted id -> {depth, chain_height, proof_ok}
    changed = True
    while changed:
        changed = False
        for oid, op in ops.items():
            if oid in status: continue
            if any(status.get(p) in ("broken", "predRejected") for p in op.preds):
                status[oid] = "predRejected"
            elif all(status.get(p) == "accepted" for p in op.preds):
                own = [ops[p] for p in op.preds if ops[p].author == op.author]
                ok = (len(own) == 0) if op.seq == 1 else (len(own) == 1 and own[0].seq == op.seq - 1)
                if not ok:
                    status[oid] = "broken"
                else:
                    status[oid] = "accepted"
                    proof_ok, height = True, 0
                    if op.kind == DEPOSIT:
                        proof_ok = verify(funding_pk, op.proof, receipt_digest(channel, op.author, op.token, op.amount, op.nonce, op.height))
                        height = op.height
                    elif op.kind == ANCHOR:
                        proof_ok = verify(funding_pk, op.proof, anchor_digest(channel, op.height))
                        height = op.height
                    nodes[oid] = dict(
                        depth=1 + max((nodes[p]["depth"] for p in op.preds), default=0),
                        chain_height=max([nodes[p]["chain_height"] for p in op.preds] + [height if proof_ok else 0]),
                        proof_ok=proof_ok)
            else:
                continue
            changed = True
    records = {}      # id -> (bytes, note)
    for oid, st in status.items():
        op = ops[oid]
        head = oid + u32(op.author) + u64(op.seq) + u8(1)
        if st == "broken":
            records[oid] = (head + u8(0x01), "brokenAuthorChain, class 1")
        elif st == "predRejected":
            named = min(p for p in op.preds if status.get(p) in ("broken", "predRejected"))
            records[oid] = (head + u8(0x02) + named, ("predecessorRejected", named))
    # Ledger in the total order (depth, id).
    order = sorted(nodes, key=lambda i: (nodes[i]["depth"], i))
    ledger = Ledger()
    for oid in order:
        op = ops[oid]
        refusal = ledger.apply(op, nodes[oid], cfg)
        if refusal is None: continue
        name, params, state_dependent = refusal
        cls = 1
        if state_dependent:
            past = set()
            stack = list(op.preds)
            while stack:
                p = stack.pop()
                if p in past: continue
                past.add(p)
                stack.extend(ops[p].preds)
            view = Ledger()
            for p in sorted(past, key=lambda i: (nodes[i]["depth"], i)):
                view.apply(ops[p], nodes[p], cfg)
            cls = 1 if view.apply(op, nodes[oid], cfg) is not None else 2
        records[oid] = (oid + u32(op.author) + u64(op.seq) + u8(cls) + params, (name, cls))
    leaves = ledger.leaves()
    recs = [records[i][0] for i in sorted(records)]
    digest = H("chanlab/rejections/v1", u32(len(recs)) + b"".join(recs))
    return dict(ledger=ledger, leaves=leaves, root=merkle_root(leaves), records=recs, digest=digest,
                notes={i: records[i][1] for i in records}, order=order, status=status)

# ---------------------------------------------------------------- cases

cases = []

def case(name, shows, roles, tokens, build, expect_notes=None, expect_accounts=None):
    b = Builder()
    build(b)
    cfg = dict(roles=roles, tokens=tokens)
    result = run_model(cfg, [w for _, _, w in b.wires])
    L = lambda i: b.labels.get(i, i.hex()[:8])
    notes = []
    for oid in sorted(result["notes"]):
        n = result["notes"][oid]
        if isinstance(n, tuple) and n[0] == "predecessorRejected":
            text = f"{L(oid)}: predecessorRejected({L(n[1])}), class 1"
        elif isinstance(n, tuple):
            text = f"{L(oid)}: {n[0]}, class {n[1]}"
        else:
            text = f"{L(oid)}: {n}"
        for known, label in b.labels.items():
            text = text.replace(known.hex(), label)
        notes.append(text)
    accounts = {f"{p}/{t}": dict(balance=v[0], locked=v[1], withdrawn=v[2]) for (p, t), v in sorted(result["ledger"].accounts.items())}
    # The hand-designed intent, checked so that a model change cannot silently alter a case.
    if expect_notes is not None:
        assert sorted(notes) == sorted(expect_notes), f"{name}: {notes} != {expect_notes}"
    if expect_accounts is not None:
        assert accounts == expect_accounts, f"{name}: {accounts} != {expect_accounts}"
    cases.append(dict(
        name=name, shows=shows,
        config=dict(participants=len(roles), roles=roles, tokens=tokens),
        ops=[dict(label=label, id=oid.hex(), wire=w.hex()) for label, oid, w in b.wires],
        expected=dict(
            leaves=[l.hex() for l in result["leaves"]], treeSize=len(result["leaves"]), stateRoot=result["root"].hex(),
            records=[r.hex() for r in result["records"]], rejectionsDigest=result["digest"].hex(),
            accounts=accounts, appliedOrder=[L(i) for i in result["order"]], notes=notes)))
    return b, result

T3 = ["trader", "trader", "trader"]

case("empty", "No operations: the empty tree's root is BLAKE2b-256 of the empty string, size 0, and the digest of zero records.",
     T3, [0], lambda b: None, expect_notes=[], expect_accounts={})

def drained_by_transfer(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=1, height=1)
    b.transfer("a2", 0, 2, [a1], to=1, amount=100)
case("drained-by-transfer",
     "Participant 0 deposits 100 and transfers all of it to 1: its account stays a leaf with balance 0; "
     "1's account exists only because the transfer credited it.",
     T3, [0], drained_by_transfer, expect_notes=[],
     expect_accounts={"0/0": dict(balance=0, locked=0, withdrawn=0), "1/0": dict(balance=100, locked=0, withdrawn=0)})

def drained_by_withdraw(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=50, nonce=2, height=1)
    b.withdraw("a2", 0, 2, [a1], amount=50)
    b1 = b.deposit("b1", 1, 1, [], token=1, amount=70, nonce=3, height=1)
    b.lock("b2", 1, 2, [b1], amount=70, until=1000, token=1)
case("drained-by-withdraw-and-lock",
     "0 withdraws everything it deposited (balance 0, withdrawn 50: the leaf stays); 1 locks everything "
     "(balance 0, locked 70, a lock leaf, still unreleased).",
     T3, [0, 1], drained_by_withdraw, expect_notes=[],
     expect_accounts={"0/0": dict(balance=0, locked=0, withdrawn=50), "1/1": dict(balance=0, locked=70, withdrawn=0)})

def recipient_created(b):
    a1 = b.deposit("a1", 0, 1, [], token=1, amount=100, nonce=4, height=1)
    a2 = b.transfer("a2", 0, 2, [a1], to=2, amount=30, token=1)
    b.transfer("c1", 2, 1, [a2], to=1, amount=30, token=1)
case("recipient-created-by-credit",
     "2 never deposits: its account is created by 0's transfer, then 2 passes all of it on to 1, which is "
     "created the same way; 2's drained account stays a leaf.",
     T3, [0, 1], recipient_created, expect_notes=[],
     expect_accounts={"0/1": dict(balance=70, locked=0, withdrawn=0), "1/1": dict(balance=30, locked=0, withdrawn=0),
                      "2/1": dict(balance=0, locked=0, withdrawn=0)})

def leaf_order(b):
    a1 = b.deposit("a1", 0, 1, [], token=1, amount=5, nonce=30, height=1)
    b1 = b.deposit("b1", 1, 1, [], token=0, amount=6, nonce=4, height=1)
    a2 = b.deposit("a2", 0, 2, [a1], token=0, amount=7, nonce=17, height=1)
    a3 = b.lock("a3", 0, 3, [a2], amount=2, until=9, token=0)
    b.lock("b2", 1, 2, [b1], amount=3, until=8, token=0)
case("leaf-order",
     "Canonical leaf order: accounts by (participant, token) — (0,0), (0,1), (1,0) — then locks by id, then "
     "used receipt nonces ascending (4, 17, 30), whatever order they were made in.",
     T3, [0, 1], leaf_order, expect_notes=[])

def seq_skip(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=5, height=1)
    a3 = b.transfer("a3", 0, 3, [a1], to=1, amount=10)
    b.transfer("a4", 0, 4, [a3], to=1, amount=10)
    b1 = b.transfer("b1", 1, 1, [a3], to=0, amount=1)
    b.withdraw("b2", 1, 2, [b1], amount=1)
case("broken-chain-seq-skip",
     "0's seq 3 cites its seq 1 (seq 2 skipped): brokenAuthorChain; everything that descends from it, 0's own "
     "seq 4 and 1's seq 1 citing it, then 1's seq 2, is predecessorRejected naming its rejected predecessor. "
     "The deposit before the break still applies.",
     T3, [0], seq_skip,
     expect_notes=["a3: brokenAuthorChain, class 1", "a4: predecessorRejected(a3), class 1",
                   "b1: predecessorRejected(a3), class 1", "b2: predecessorRejected(b1), class 1"],
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0)})

def chain_variants(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=10, nonce=6, height=1)
    b.withdraw("a1x", 0, 1, [a1], amount=1)                 # seq 1 citing an own operation
    b1 = b.deposit("b1", 1, 1, [], token=0, amount=10, nonce=7, height=1)
    b.withdraw("b2x", 1, 2, [], amount=1)                    # seq 2 citing no own operation
    c1 = b.deposit("c1", 2, 1, [], token=0, amount=10, nonce=8, height=1)
    c1b = b.deposit("c1b", 2, 1, [], token=0, amount=10, nonce=9, height=1)   # equivocation at seq 1
    b.withdraw("c2x", 2, 2, [c1, c1b], amount=1)             # seq 2 citing two own operations
    b.withdraw("b2", 1, 2, [b1], amount=1)
case("broken-chain-variants",
     "Three ways to break a chain: seq 1 citing an own operation, seq 2 citing none, seq 2 citing two (both "
     "halves of an equivocation at seq 1, which are both accepted). 1's proper seq 2 is accepted beside its "
     "broken one.",
     T3, [0], chain_variants,
     expect_notes=["a1x: brokenAuthorChain, class 1", "b2x: brokenAuthorChain, class 1", "c2x: brokenAuthorChain, class 1"],
     expect_accounts={"0/0": dict(balance=10, locked=0, withdrawn=0), "1/0": dict(balance=9, locked=0, withdrawn=1),
                      "2/0": dict(balance=20, locked=0, withdrawn=0)})

fan_in_ids = {}
def fan_in(b):
    a2 = b.withdraw("a2", 0, 2, [], amount=1)
    b2 = b.withdraw("b2", 1, 2, [], amount=1)
    c1 = b.transfer("c1", 2, 1, [a2, b2], to=0, amount=1)
    b.transfer("c2", 2, 2, [c1], to=0, amount=1)
    fan_in_ids.update(a2=a2, b2=b2)
    # Given order: the larger refused one, c1 (recorded naming it), c2, then the smaller one, which
    # renames c1's record. (The old rule, naming what arrived first, fails on this order.)
    ops = {label: entry for entry in b.wires for label in [entry[0]]}
    larger, smaller = ("a2", "b2") if a2 > b2 else ("b2", "a2")
    b.wires = [ops[larger], ops["c1"], ops["c2"], ops[smaller]]
fb, _ = case("rejected-fan-in",
     "Two authors each break their chain (seq 2 citing nothing); a third author's seq 1 cites both: its record "
     "names the smaller id, in every delivery order (the bug of issue 11), here delivered last. Its own seq 2 "
     "names it.",
     T3, [0], fan_in)
smaller = min(fan_in_ids.values())
assert sorted(cases[-1]["expected"]["notes"]) == sorted([
    "a2: brokenAuthorChain, class 1", "b2: brokenAuthorChain, class 1",
    f"c1: predecessorRejected({fb.labels[smaller]}), class 1", "c2: predecessorRejected(c1), class 1"]), cases[-1]["expected"]["notes"]

def fan_in_buffered(b):
    # Grind 0's deposit amount until its broken seq 3 sorts before 1's broken seq 2.
    for amount in range(1, 100):
        probe = Builder()
        a1 = probe.deposit("a1", 0, 1, [], token=0, amount=amount, nonce=32, height=1)
        a3 = probe.transfer("a3", 0, 3, [a1], to=2, amount=1)
        b2 = probe.withdraw("b2", 1, 2, [], amount=1)
        if a3 < b2: break
    else:
        raise AssertionError("no amount puts a3 first")
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=amount, nonce=32, height=1, deliver=False)
    a3 = b.transfer("a3", 0, 3, [a1], to=2, amount=1, deliver=False)
    b2 = b.withdraw("b2", 1, 2, [], amount=1, deliver=False)
    c1 = b.transfer("c1", 2, 1, [a3, b2], to=0, amount=1, deliver=False)
    ops = {label: (label, oid, wire) for label, oid, wire in b.pending}
    b.wires = [ops["c1"], ops["b2"], ops["a3"], ops["a1"]]
    fan_in_buffered.amount = amount
case("rejected-fan-in-buffered",
     "Delivered in this order: c1 (buffered), 1's broken seq 2 b2 (c1 is recorded naming b2), 0's broken seq 3 "
     "a3 (buffered: its predecessor a1 is missing), a1. When a1 releases a3, a3 is refused and, being the "
     "smaller id, becomes the name in c1's record. a1 applies.",
     T3, [0], fan_in_buffered,
     expect_notes=["a3: brokenAuthorChain, class 1", "b2: brokenAuthorChain, class 1",
                   "c1: predecessorRejected(a3), class 1"])

def fan_in_cascade(b):
    # Grind 3's operation until it sorts before 1's broken seq 2 (so it is the name to find).
    for amount in range(1, 100):
        probe = Builder()
        a2 = probe.withdraw("a2", 0, 2, [], amount=1)
        b2 = probe.withdraw("b2", 1, 2, [], amount=2)
        d1 = probe.transfer("d1", 3, 1, [a2], to=0, amount=amount)
        if d1 < b2: break
    else:
        raise AssertionError("no amount puts d1 first")
    a2 = b.withdraw("a2", 0, 2, [], amount=1, deliver=False)
    b2 = b.withdraw("b2", 1, 2, [], amount=2, deliver=False)
    d1 = b.transfer("d1", 3, 1, [a2], to=0, amount=amount, deliver=False)
    c1 = b.transfer("c1", 2, 1, [b2, d1], to=0, amount=1, deliver=False)
    ops = {label: (label, oid, wire) for label, oid, wire in b.pending}
    b.wires = [ops["b2"], ops["c1"], ops["d1"], ops["a2"]]
case("rejected-fan-in-cascade",
     "c1 cites 1's broken seq 2 (b2) and d1, which is refused only as a descendant of 0's broken seq 2 (a2). "
     "Delivered b2, c1 (recorded naming b2), d1 (buffered), a2: the cascade from a2 records d1, the smaller "
     "id, and c1's record is renamed to it. A record names a direct predecessor, never a further ancestor.",
     ["trader"] * 4, [0], fan_in_cascade,
     expect_notes=["a2: brokenAuthorChain, class 1", "b2: brokenAuthorChain, class 1",
                   "c1: predecessorRejected(d1), class 1", "d1: predecessorRejected(a2), class 1"])

def overdraft(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=10, height=1)
    a2 = b.transfer("a2", 0, 2, [a1], to=1, amount=150)
    a3 = b.withdraw("a3", 0, 3, [a2], amount=100)
    b.lock("a4", 0, 4, [a3], amount=2**96 - 1, until=5)
case("overdraft-in-causal-past",
     "0 deposits 100 and transfers 150 (insufficientBalance available 100, needed 150, class 1: it saw its own "
     "balance); the refused transfer stays in the graph and its successor withdraws 100; then a lock of "
     "2^96-1 finds balance 0 (class 1).",
     T3, [0], overdraft,
     expect_notes=["a2: insufficientBalance(available 100, needed 150), class 1",
                   "a4: insufficientBalance(available 0, needed 79228162514264337593543950335), class 1"],
     expect_accounts={"0/0": dict(balance=0, locked=0, withdrawn=100)})

def double_spend(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=11, height=1)
    x = b.transfer("a2-to-1", 0, 2, [a1], to=1, amount=100)
    y = b.transfer("a2-to-2", 0, 2, [a1], to=2, amount=100)
    loser = max(x, y)
    loser_recipient = 1 if loser == x else 2
    other = 3 - loser_recipient
    # The loser's recipient, honest, spends what it received: valid in its causal past.
    b.transfer(f"spend-by-{loser_recipient}", loser_recipient, 1, [loser], to=other, amount=60)
    double_spend.info = (b.labels[loser], loser_recipient)
case("double-spend-equivocation",
     "0 deposits 100 and forks seq 2: two transfers of 100 to 1 and to 2 (an equivocation, both accepted). The "
     "one with the larger id sorts second: insufficientBalance (available 0, needed 100) as a concurrent "
     "conflict (class 2). Its recipient, honest, spends 60 of what it received: refused in the total order, "
     "valid in its causal past, so class 2 too (Byzantine taint). The recipient never gets an account.",
     T3, [0], double_spend)
assert sorted(cases[-1]["expected"]["notes"]) == sorted([
    f"{double_spend.info[0]}: insufficientBalance(available 0, needed 100), class 2",
    f"spend-by-{double_spend.info[1]}: insufficientBalance(available 0, needed 60), class 2"])
assert f"{double_spend.info[1]}/0" not in cases[-1]["expected"]["accounts"]

def receipt_reused(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=12, height=1)
    a2 = b.deposit("a2", 0, 2, [a1], token=0, amount=100, nonce=12, height=1)
    b.transfer("a3", 0, 3, [a2], to=1, amount=100)
case("receipt-reused",
     "0 deposits one receipt (nonce 12) twice: the second is receiptAlreadyUsed(12), class 1 (the first is in "
     "its causal past), and credits nothing.",
     T3, [0], receipt_reused,
     expect_notes=["a2: receiptAlreadyUsed(12), class 1"],
     expect_accounts={"0/0": dict(balance=0, locked=0, withdrawn=0), "1/0": dict(balance=100, locked=0, withdrawn=0)})

def receipt_race(b):
    b.deposit("a1", 0, 1, [], token=0, amount=40, nonce=13, height=1)
    b.deposit("b1", 1, 1, [], token=0, amount=40, nonce=13, height=1)
case("receipt-nonce-race",
     "Two participants each hold a validly signed receipt with nonce 13 (nonces are channel-wide) and deposit "
     "concurrently: the larger id sorts second and is receiptAlreadyUsed(13) as a concurrent conflict (class 2).",
     T3, [0], receipt_race)
assert len(cases[-1]["expected"]["notes"]) == 1 and cases[-1]["expected"]["notes"][0].endswith("receiptAlreadyUsed(13), class 2")

def early_unlock(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=14, height=2)
    a2 = b.lock("a2", 0, 2, [a1], amount=60, until=10)
    a3 = b.unlock("a3", 0, 3, [a2], a2)
    b1 = b.anchor("b1", 1, 1, [], height=10)
    b.unlock("a4", 0, 4, [a3, b1], a2)
case("lock-early-unlock",
     "0 deposits (receipt height 2), locks 60 until height 10 and unlocks at once: lockNotExpired(chainHeight 2, "
     "untilHeight 10), class 1. After citing 1's chain anchor at height 10 the unlock succeeds; the lock leaf "
     "stays, released.",
     T3, [0], early_unlock,
     expect_notes=["a3: lockNotExpired(chainHeight 2, untilHeight 10), class 1"],
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0)})

def unlock_refusals(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=15, height=1)
    a2 = b.lock("a2", 0, 2, [a1], amount=40, until=1)
    b.unlock("b1", 1, 1, [a2], a2)
    a3 = b.unlock("a3", 0, 3, [a2], a2)
    a4 = b.unlock("a4", 0, 4, [a3], a2)
    no_lock = H("chanlab/test/no-such-lock", b"")
    b.labels[no_lock] = "no-such-lock"
    b.unlock("a5", 0, 5, [a4], no_lock)
case("unlock-refusals",
     "Unlock of another's lock: lockNotOwned (class 1); the owner's unlock succeeds; unlocking it again: "
     "lockAlreadyReleased (class 1, the release is in its causal past); unlocking an id that is no lock: "
     "unknownLock (class 1).",
     T3, [0], unlock_refusals,
     expect_notes=["a4: lockAlreadyReleased(a2), class 1", "a5: unknownLock(no-such-lock), class 1",
                   "b1: lockNotOwned(a2), class 1"],
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0)})

def double_unlock(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=16, height=1)
    a2 = b.lock("a2", 0, 2, [a1], amount=40, until=1)
    b1 = b.deposit("b1", 1, 1, [], token=0, amount=5, nonce=17, height=1)
    b.unlock("a3", 0, 3, [a2], a2)
    b.unlock("a3'", 0, 3, [a2, b1], a2)
case("double-unlock-equivocation",
     "0 forks seq 3 into two unlocks of one lock (one also cites 1's deposit, so the ids differ; both depth 3): "
     "the second in the total order is lockAlreadyReleased as a concurrent conflict (class 2).",
     T3, [0], double_unlock,
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0), "1/0": dict(balance=5, locked=0, withdrawn=0)})
assert len(cases[-1]["expected"]["notes"]) == 1 and cases[-1]["expected"]["notes"][0].endswith("lockAlreadyReleased(a2), class 2")

def tainted_lock(b):
    # Grind the lock's untilHeight (1...5, all expired at receipt height 5) until the transfer
    # half of the fork sorts first, so the lock half is refused and its unlock finds no lock.
    for until in range(1, 6):
        probe = Builder()
        a1 = probe.deposit("a1", 0, 1, [], token=0, amount=100, nonce=18, height=5)
        x = probe.transfer("a2-transfer", 0, 2, [a1], to=1, amount=100)
        y = probe.lock("a2-lock", 0, 2, [a1], amount=100, until=until)
        if x < y: break
    else:
        raise AssertionError("no untilHeight puts the transfer first")
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=18, height=5)
    b.transfer("a2-transfer", 0, 2, [a1], to=1, amount=100)
    y = b.lock("a2-lock", 0, 2, [a1], amount=100, until=until)
    b.unlock("a3", 0, 3, [y], y)
case("unknown-lock-concurrent",
     "0 forks seq 2: a transfer of its 100 to 1 and a lock of the same 100 (untilHeight chosen so that the "
     "transfer sorts first). The lock is refused (insufficientBalance, class 2) and its own unlock finds no lock: "
     "unknownLock, but the lock is in its causal past, so class 2 as well.",
     T3, [0], tainted_lock,
     expect_notes=["a2-lock: insufficientBalance(available 0, needed 100), class 2", "a3: unknownLock(a2-lock), class 2"],
     expect_accounts={"0/0": dict(balance=0, locked=0, withdrawn=0), "1/0": dict(balance=100, locked=0, withdrawn=0)})

MAX = 2**96 - 1
def large_amounts(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=MAX, nonce=40, height=1)
    a2 = b.deposit("a2", 0, 2, [a1], token=0, amount=MAX, nonce=41, height=1)
    a3 = b.withdraw("a3", 0, 3, [a2], amount=5)
    b1 = b.deposit("b1", 1, 1, [], token=0, amount=MAX, nonce=2**64 - 1, height=2**64 - 1)
    b.transfer("b2", 1, 2, [b1, a3], to=0, amount=MAX)
case("large-amounts",
     "Amounts at the top of the range (2^96-1) and balances beyond it: 0 ends with 3*2^96-8 (more than 96 bits "
     "in its i128 balance); nonce and receipt height 2^64-1.",
     T3, [0], large_amounts, expect_notes=[],
     expect_accounts={"0/0": dict(balance=3 * 2**96 - 8, locked=0, withdrawn=5), "1/0": dict(balance=0, locked=0, withdrawn=0)})

ROLES_OBS = ["trader", "observer", "marketMaker"]
def observer(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=19, height=1)
    b.transfer("a2", 0, 2, [a1], to=1, amount=10)
    o1 = b.transfer("o1", 1, 1, [a1], to=0, amount=5)
    o2 = b.deposit("o2", 1, 2, [o1], token=0, amount=5, nonce=20, height=1)
    o3 = b.transfer("o3", 1, 3, [o2], to=0, amount=5, token=9)
    b.anchor("o4", 1, 4, [o3], height=3)
    m1 = b.deposit("m1", 2, 1, [], token=0, amount=8, nonce=21, height=1)
    b.transfer("m2", 2, 2, [m1], to=0, amount=8)
case("observer-role",
     "Roles trader, observer, marketMaker. A transfer to the observer: recipientCannotHoldFunds(1). The "
     "observer's transfer and deposit: notPermitted(observer, code 5); with an unknown token too, the role is "
     "checked first. The observer may publish a chain anchor. The market maker holds funds like a trader.",
     ROLES_OBS, [0], observer,
     expect_notes=["a2: recipientCannotHoldFunds(1), class 1", "o1: notPermitted(observer), class 1",
                   "o2: notPermitted(observer), class 1", "o3: notPermitted(observer), class 1"],
     expect_accounts={"0/0": dict(balance=108, locked=0, withdrawn=0), "2/0": dict(balance=0, locked=0, withdrawn=0)})

def unknown_token(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=22, height=1)
    a2 = b.transfer("a2", 0, 2, [a1], to=1, amount=10, token=9)
    a3 = b.withdraw("a3", 0, 3, [a2], amount=10, token=9)
    a4 = b.lock("a4", 0, 4, [a3], amount=10, until=1, token=9)
    b.deposit("a5", 0, 5, [a4], token=9, amount=10, nonce=23, height=1)
case("unknown-token",
     "Channel tokens [0, 1]. Transfer, withdraw, lock and a (validly signed) deposit of token 9: unknownToken(9), "
     "class 1, nothing credited, receipt 23 not used.",
     T3, [0, 1], unknown_token,
     expect_notes=["a2: unknownToken(9), class 1", "a3: unknownToken(9), class 1", "a4: unknownToken(9), class 1",
                   "a5: unknownToken(9), class 1"],
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0)})

def self_transfer(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=24, height=1)
    a2 = b.transfer("a2", 0, 2, [a1], to=0, amount=10)
    b.transfer("a3", 0, 3, [a2], to=0, amount=1000)
case("self-transfer",
     "Transfers to oneself: selfTransfer, class 1, also when the amount exceeds the balance (the self check "
     "comes before the balance check).",
     T3, [0], self_transfer,
     expect_notes=["a2: selfTransfer, class 1", "a3: selfTransfer, class 1"],
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0)})

def unknown_recipient(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=25, height=1)
    a2 = b.transfer("a2", 0, 2, [a1], to=9, amount=10)
    a3 = b.transfer("a3", 0, 3, [a2], to=3, amount=1000)
    b.transfer("a4", 0, 4, [a3], to=9, amount=10, token=9)
case("unknown-recipient",
     "Three participants: transfers to 9 and to 3 are unknownRecipient (to 3 also with more than the balance: "
     "the recipient is checked first); a transfer to 9 of unknown token 9 is unknownToken (the token is "
     "checked first).",
     T3, [0], unknown_recipient,
     expect_notes=["a2: unknownRecipient(9), class 1", "a3: unknownRecipient(3), class 1", "a4: unknownToken(9), class 1"],
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0)})

wrong_sk = keys[1][0]
def bad_receipt(b):
    a1 = b.deposit("a1", 0, 1, [], token=0, amount=100, nonce=26, height=1)
    a2 = b.deposit("a2", 0, 2, [a1], token=0, amount=100, nonce=27, height=99, signer=wrong_sk)
    a3 = b.deposit("a3", 0, 3, [a2], token=0, amount=100, nonce=28, height=99, receipt_for=1)
    a4 = b.lock("a4", 0, 4, [a3], amount=10, until=5)
    b1 = b.anchor("b1", 1, 1, [], height=99, signer=wrong_sk)
    b.unlock("a5", 0, 5, [a4, b1], a4)
case("bad-chain-signature",
     "A receipt signed by participant 1's key instead of the funding key, one signed by the funding key for "
     "another participant, and a chain anchor signed by the wrong key: badChainSignature, class 1. Their height "
     "99 does not count, so the unlock citing all of them sees chainHeight 1: lockNotExpired(1, 5).",
     T3, [0], bad_receipt,
     expect_notes=["a2: badChainSignature, class 1", "a3: badChainSignature, class 1",
                   "a5: lockNotExpired(chainHeight 1, untilHeight 5), class 1",
                   "b1: badChainSignature, class 1"],
     expect_accounts={"0/0": dict(balance=90, locked=10, withdrawn=0)})

def refused_height(b):
    a1 = b.deposit("a1", 0, 1, [], token=9, amount=1, nonce=29, height=50)
    a2 = b.deposit("a2", 0, 2, [a1], token=0, amount=100, nonce=31, height=1)
    a3 = b.lock("a3", 0, 3, [a2], amount=10, until=50)
    b.unlock("a4", 0, 4, [a3], a3)
case("refused-deposit-height-counts",
     "A deposit refused by the ledger (unknownToken(9)) whose receipt the funding key did sign still counts its "
     "height 50 for chain time (docs: a verified receipt), so a lock until 50 can be unlocked after it.",
     T3, [0], refused_height,
     expect_notes=["a1: unknownToken(9), class 1"],
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0)})

out = dict(
    spec="docs/merge-and-ledger.md, docs/wire-format.md (state root, rejection records)",
    generator="scripts/make-replica-golden.py",
    labSeed=SEED, channel=channel.hex(), fundingPublicKey=funding_pk.hex(),
    publicKeys=[pk.hex() for _, pk in keys],
    roleCodes=ROLE_CODES,
    cases=cases)
path = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "replica-golden.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {path}")
