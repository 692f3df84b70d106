#!/usr/bin/env python3
"""Independent model of the order book that writes fixtures/orderbook-golden.json.

Written from the documents only, never from the Swift code: docs/apps/orderbook.md (markets,
operations and wire format, rules, rejections, state leaves), docs/apps/README.md (the seam:
hold, release, payHeld, the three rejection classes), docs/wire-format.md ("Conventions",
"Unsigned operation", "Identity and signature", "State root", "Rejection records") and
docs/merge-and-ledger.md (total order (depth, id), chain height, causal-past replay). Python's
hashlib (BLAKE2b) and pyca/cryptography (Ed25519), as scripts/make-replica-golden.py.

The model:

- operations: the unsigned encoding with the order-book bodies (0x10 place, 46 bytes; 0x11
  cancel, 32; 0x12 market, 37), ids and signatures; deposits and chain anchors for funds and
  chain time;
- every case is a small set of valid operations (each author's chain, citing what it saw):
  depth = 1 + max depth of the preds, chain height = the greatest verified receipt or anchor
  height in the causal past, the operation included; the state applies them in (depth, id);
- the ledger part: deposits credit the author's balance, receipts are used; an account is a
  leaf once anything credited or debited it (the order book's hold, release and payHeld
  included);
- the order book: the checks of "Placing" in their order, escrow held as the owner's locked,
  continuous matching (price then arrival, fills at the maker's price, fees rounded up, the
  buyer's escrow trimmed after each fill, expired resting orders and the taker's own orders
  closed and skipped, IOC), cancels, batch rounds (orders wait, the round clears when the
  first order-book operation of the market from a later round applies, the volume-maximising
  price, pro-rata rationing with the remainder in ascending H(seed || id) order, pairing into
  fills, maker = the earlier arrival);
- rejection records: reason 0x1E, kind, the application's code, parameter length and
  parameters; the class by replaying the operation's causal past alone (class 1 when it is
  refused there for a slashable reason, else 2 when the refusal in the total order is
  slashable, else 3 void);
- leaves: accounts, receipts, then order leaves sorted by id (115 bytes), then market leaves
  in id order (41 bytes); RFC 6962 root over BLAKE2b-256.

Where the documents leave a value open the model takes the reading listed in ASSUMPTIONS (each
written into the fixture), and the cases are designed so that no other open question decides
a value (see the notes in each case).

Run: python3 scripts/make-orderbook-golden.py
"""
import hashlib, json, struct, pathlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
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
def u128(v):
    assert 0 <= v < 1 << 128
    return v.to_bytes(16, "big")
def i128(v): return (v & ((1 << 128) - 1)).to_bytes(16, "big")

AMOUNT_MAX = 2**96 - 1

def key(seed, index):
    sk = Ed25519PrivateKey.from_private_bytes(H("chanlab/key/v1", u64(seed) + u32(index)))
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk

SEED = 7
PARTICIPANTS = 4
channel = H("chanlab/channel-id/v1", u64(SEED))
funding_sk, funding_pk = key(SEED, 0xFFFFFFFF)
keys = [key(SEED, i) for i in range(PARTICIPANTS)]

def receipt_digest(participant, token, amount, nonce, height):
    return H("chanlab/deposit-receipt/v1", channel + u32(participant) + u32(token) + u128(amount) + u64(nonce) + u64(height))

def anchor_digest(height):
    return H("chanlab/chain-anchor/v1", channel + u64(height))

def merkle_root(leaves):
    """RFC 6962 section 2.1: MTH(D[n]) splits at the largest power of two below n."""
    n = len(leaves)
    if n == 0: return b2(b"")
    if n == 1: return b2(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n: k *= 2
    return b2(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:]))

# The readings the model takes where the documents say nothing (written into the fixture and
# listed in the report). Each is named where it is used.
ASSUMPTIONS = {
    "arrival-starts-at-0":
        "docs/apps/orderbook.md, Rules: 'Each placement gets the next arrival number of the application' does not say "
        "where numbering starts. The model numbers placements 0, 1, 2, ... per application (a refused placement takes "
        "no number: a refused operation has no effect).",
    "market-order-takes-an-arrival":
        "docs/apps/orderbook.md, 'Placing (place and market)': a market order is a placement, so it takes an arrival "
        "number too. (The cases put market orders where this decides no leaf.)",
    "continuous-round-is-0":
        "docs/apps/orderbook.md, State leaves: the order leaf's 'round u64' is defined only for batch markets "
        "('the round of an operation is depth / roundDepths'). The model writes 0 for orders of continuous markets.",
    "role-checked-first":
        "docs/apps/orderbook.md, 'Operations and wire format': 'any other role is refused (notPermitted)', but the "
        "numbered checks of Placing do not place the role check. The model checks it before step 1 (as the ledger "
        "does, docs/merge-and-ledger.md); an observer can never pass the balance check, so the order decides its "
        "verdict.",
    "app-credit-creates-account":
        "docs/wire-format.md, State root: the account-leaf rule lists only ledger operations (deposit, transfer, "
        "withdraw, lock, unlock). The model makes an account a leaf once the order book credits it too (a buyer's "
        "base, a seller's quote, the fee recipient's quote), as docs/merge-and-ledger.md's 'credited or debited' "
        "reads. The cases have every fee > 0 so no zero-amount credit decides whether an account exists.",
    "cancel-checks-open-before-owner":
        "docs/apps/orderbook.md, Cancel: 'the order must be open (unknownOrder / orderClosed) and the author's "
        "(orderNotOwned)' is read as checked in that order: a non-owner cancelling a closed order gets orderClosed.",
    "round-operations-are-its-waiting-orders":
        "docs/apps/orderbook.md, Batch auctions: 'each round's operation ids are collected for the tie-break seed' and "
        "the market leaf's 'waiting round's operation count' do not say which operations count (all order-book "
        "operations of the market at the round's depths, cancels, post-only and refused ones included, or the "
        "orders that wait). The batch case puts only waiting orders at the round's depths, where both readings agree.",
}

# Questions the documents leave open that the cases are built to avoid (no value in the fixture
# depends on them); written into the fixture and listed in the report.
OPEN_QUESTIONS = {
    "strictly-better-may-exceed-volume":
        "docs/apps/orderbook.md, Batch auctions, Allocation: 'orders with a strictly better limit fill in full' cannot "
        "always hold. Buys 5 lots at 110, sells 3 lots at 100: V(100) = V(110) = 3, imbalance 2 at both, no previous "
        "price, so the lowest, 100, clears 3 lots, and the bid at 110 (strictly better) cannot fill its 5. The rule for "
        "rationing strictly better orders (presumably in price-then-arrival order until V is used up) is not written.",
    "resting-at-clearing-price-exceeding-volume":
        "Same section: 'resting orders (earlier rounds) next, in full by arrival' does not say what happens when they hold "
        "more than what is left.",
    "post-only-of-the-current-round":
        "Same section: a post-only order placed in the round rests at once; at the clearing price it is neither a resting "
        "order 'of an earlier round' nor one of 'the round's own orders' that share pro rata.",
    "pairing-order-at-the-clearing-price":
        "Same section: 'paired in priority order' does not give the order among the round's own orders at the clearing "
        "price (arrival, or the H(seed || id) order used for the remainder). It decides fills, their maker and their fees "
        "when both sides have several orders.",
    "waiting-orders-expiry":
        "Same section: only resting orders expired at the round's chain height are said to close first; a waiting order "
        "whose expiry the round's chain height has reached is not mentioned. Nor is which operations' heights make the "
        "round's chain height (all of the round's operations, or its waiting orders).",
    "cancel-housekeeping-market":
        "docs/apps/orderbook.md, Cancel: 'Housekeeping first (a waiting earlier round clears)' does not say which market's "
        "round (a cancel names an order, not a market; the order may be unknown) nor which round the cancel is in.",
    "zero-fee-credit":
        "docs/apps/orderbook.md, Continuous matching / docs/wire-format.md, State root: with a fee of 0 (fees 0 bps), "
        "whether paying 0 to the fee recipient makes its account a leaf is not said.",
    "no-trade-round-and-reference-price":
        "docs/apps/orderbook.md, Batch auctions: whether a round that clears without trade sets 'the market's previous "
        "clearing price', and whether a market whose round cleared without a fill has a market leaf, is not said.",
    "sixty-four-resting-orders":
        "docs/apps/orderbook.md, Continuous matching: 'at most 64 resting orders per operation' does not say whether "
        "expired and self-trade orders closed and skipped count toward the 64.",
    "decoding-table":
        "docs/wire-format.md, Decoding: the error table still says unknownPayloadKind for a 'kind not in 0x01...0x06' and "
        "lists only the ledger's amount fields for amountOutOfRange, while the order-book kinds 0x10-0x12 decode and "
        "report place.price etc. (the text above the table is right; the table is stale).",
}

# ---------------------------------------------------------------- operations

DEPOSIT, ANCHOR, PLACE, CANCEL, MARKET = 0x01, 0x06, 0x10, 0x11, 0x12
BUY, SELL = 0, 1
SIDE_NAMES = {BUY: "buy", SELL: "sell"}

class Op:
    def __init__(self, label, author, seq, preds, kind, fields, body):
        self.label, self.author, self.seq, self.kind, self.fields = label, author, seq, kind, fields
        self.preds = sorted(set(preds))
        self.unsigned = u8(1) + channel + u32(author) + u64(seq) + u8(len(self.preds)) + b"".join(self.preds) + u8(kind) + body
        self.id = H("chanlab/op-id/v1", self.unsigned)
        self.sig = keys[author][0].sign(H("chanlab/op-sig/v1", channel + self.id))
        self.wire = self.unsigned + self.sig

class Builder:
    """The operations of one case. Each author's chain: seq counts up, and every operation cites
    the author's previous one plus what it names in `cite`."""
    def __init__(self):
        self.ops = []
        self.labels = {}
        self.last = {}
        self.seq = {}

    def _op(self, label, author, cite, kind, fields, body):
        preds = [self.labels_to_id(c) for c in cite]
        if author in self.last: preds.append(self.last[author])
        seq = self.seq.get(author, 0) + 1
        op = Op(label, author, seq, preds, kind, fields, body)
        assert label not in [o.label for o in self.ops]
        self.ops.append(op)
        self.labels[label] = op.id
        self.last[author], self.seq[author] = op.id, seq
        return op.id

    def labels_to_id(self, c):
        return c if isinstance(c, bytes) else self.labels[c]

    def deposit(self, label, author, token, amount, nonce, height=1, cite=()):
        sig = funding_sk.sign(receipt_digest(author, token, amount, nonce, height))
        return self._op(label, author, cite, DEPOSIT, dict(type="deposit", token=token, amount=str(amount), nonce=nonce, height=height),
                        u32(token) + u128(amount) + u64(nonce) + u64(height) + sig)

    def anchor(self, label, author, height, cite=()):
        return self._op(label, author, cite, ANCHOR, dict(type="anchor", height=height), u64(height) + funding_sk.sign(anchor_digest(height)))

    def place(self, label, author, side, price, amount, expiry=0, post_only=False, market=7, cite=()):
        body = u32(market) + u8(side) + u128(price) + u128(amount) + u64(expiry) + u8(1 if post_only else 0)
        assert len(body) == 46
        return self._op(label, author, cite, PLACE, dict(type="place", market=market, side=SIDE_NAMES[side], price=str(price),
                                                         amount=str(amount), expiry=expiry, postOnly=post_only), body)

    def cancel(self, label, author, order, cite=()):
        oid = self.labels_to_id(order)
        body = oid
        assert len(body) == 32
        return self._op(label, author, cite, CANCEL, dict(type="cancel", order=oid.hex()), body)

    def market(self, label, author, side, amount, worst, market=7, cite=()):
        body = u32(market) + u8(side) + u128(amount) + u128(worst)
        assert len(body) == 37
        return self._op(label, author, cite, MARKET, dict(type="market", market=market, side=SIDE_NAMES[side], amount=str(amount),
                                                          worstPrice=str(worst)), body)

def decode(wire):
    """Reads a signed operation back from its bytes (the fixture's wire is what the model runs on)."""
    pos = 0
    def take(n):
        nonlocal pos
        out = wire[pos:pos + n]
        assert len(out) == n
        pos += n
        return out
    assert take(1) == b"\x01" and take(32) == channel
    author = struct.unpack(">I", take(4))[0]
    seq = struct.unpack(">Q", take(8))[0]
    preds = [take(32) for _ in range(take(1)[0])]
    assert preds == sorted(set(preds))
    kind = take(1)[0]
    f = {}
    if kind == DEPOSIT:
        f = dict(token=struct.unpack(">I", take(4))[0], amount=int.from_bytes(take(16), "big"), nonce=struct.unpack(">Q", take(8))[0],
                 height=struct.unpack(">Q", take(8))[0], proof=take(64))
    elif kind == ANCHOR:
        f = dict(height=struct.unpack(">Q", take(8))[0], proof=take(64))
    elif kind == PLACE:
        f = dict(market=struct.unpack(">I", take(4))[0], side=take(1)[0], price=int.from_bytes(take(16), "big"),
                 amount=int.from_bytes(take(16), "big"), expiry=struct.unpack(">Q", take(8))[0], flags=take(1)[0])
        assert f["side"] in (0, 1) and f["flags"] in (0, 1)
        assert 1 <= f["price"] <= AMOUNT_MAX and 1 <= f["amount"] <= AMOUNT_MAX
    elif kind == CANCEL:
        f = dict(order=take(32))
    elif kind == MARKET:
        f = dict(market=struct.unpack(">I", take(4))[0], side=take(1)[0], amount=int.from_bytes(take(16), "big"),
                 worst=int.from_bytes(take(16), "big"))
        assert f["side"] in (0, 1) and 1 <= f["amount"] <= AMOUNT_MAX and 1 <= f["worst"] <= AMOUNT_MAX
    else:
        raise ValueError(kind)
    unsigned = wire[:pos]
    take(64)
    assert pos == len(wire)
    return dict(id=H("chanlab/op-id/v1", unsigned), author=author, seq=seq, preds=preds, kind=kind, **f)

# ---------------------------------------------------------------- the model

ROLE_CODES = {"trader": 1, "marketMaker": 2, "liquidator": 3, "oracle": 4, "observer": 5}
TRADE = {"trader", "marketMaker"}                                   # orderbook.md, Roles
HOLD_FUNDS = {"trader", "marketMaker", "liquidator", "oracle"}     # channel.md

def fee(x, bps):
    """ceil(x * bps / 10^4); 0 when either is 0."""
    if x == 0 or bps == 0: return 0
    return (x * bps + 9999) // 10000

class Refusal(Exception):
    def __init__(self, code, params, slashable, text):
        self.code, self.params, self.slashable, self.text = code, params, slashable, text

# orderbook.md, Rejections: (code, slashable)
def not_permitted(role): return Refusal(0x01, u8(ROLE_CODES[role]), True, f"notPermitted({role})")
def unknown_market(m): return Refusal(0x02, u32(m), True, f"unknownMarket({m})")
def price_off_tick(p): return Refusal(0x03, u128(p), True, f"priceOffTick({p})")
def amount_off_lot(a): return Refusal(0x04, u128(a), True, f"amountOffLot({a})")
def too_large(): return Refusal(0x05, b"", True, "tooLarge")
def expired(h, e): return Refusal(0x06, u64(h) + u64(e), False, f"expired(chainHeight {h}, expiry {e})")
def insufficient(t, avail, need): return Refusal(0x07, u32(t) + i128(avail) + u128(need), True, f"insufficientBalance(token {t}, available {avail}, needed {need})")
def would_cross(p): return Refusal(0x08, u128(p), False, f"wouldCross({p})")
def unknown_order(i): return Refusal(0x0A, i, False, f"unknownOrder({i.hex()})")
def order_closed(i): return Refusal(0x0B, i, False, f"orderClosed({i.hex()})")
def order_not_owned(i): return Refusal(0x0C, i, True, f"orderNotOwned({i.hex()})")

class Order:
    def __init__(self, **kw): self.__dict__.update(kw)

class MarketState:
    def __init__(self):
        self.fills = 0
        self.lots_filled = 0
        self.waiting_round = None   # round number while one waits
        self.waiting_ids = []       # the round's waiting orders (their ids seed the tie-break)
        self.waiting_height = 0
        self.last_price = None      # the previous clearing price

class State:
    def __init__(self, cfg):
        self.cfg = cfg
        self.markets = {m["id"]: m for m in cfg["markets"]}
        self.accounts = {}           # (participant, token) -> [balance, locked, withdrawn]
        self.used = set()
        self.orders = {}             # open orders by id
        self.closed = set()
        self.next_arrival = 0        # ASSUMPTIONS["arrival-starts-at-0"]
        self.mstate = {m: MarketState() for m in self.markets}
        self.fill_log = []
        self.clearings = []

    # -- the seam (apps/README.md): every change touches the account, so it becomes a leaf.
    def acc(self, p, t): return self.accounts.setdefault((p, t), [0, 0, 0])
    def bal(self, p, t): return self.accounts.get((p, t), [0, 0, 0])[0]
    def hold(self, p, t, a):
        acc = self.acc(p, t); acc[0] -= a; acc[1] += a
    def release(self, p, t, a):
        acc = self.acc(p, t); acc[1] -= a; acc[0] += a
        assert acc[1] >= 0
    def pay_held(self, frm, to, t, a):
        self.acc(frm, t)[1] -= a
        assert self.acc(frm, t)[1] >= 0
        self.acc(to, t)[0] += a

    # -- ledger payloads used by the cases
    def apply_ledger(self, op, node):
        role = self.cfg["roles"][op["author"]]
        if op["kind"] == DEPOSIT:
            assert role in HOLD_FUNDS and op["token"] in self.cfg["tokens"] and op["nonce"] not in self.used
            self.used.add(op["nonce"])
            self.acc(op["author"], op["token"])[0] += op["amount"]
        elif op["kind"] == ANCHOR:
            pass
        else:
            raise ValueError("kind")

    # -- order book
    def fpl(self, m, price): return fee(price, max(m["makerFeeBps"], m["takerFeeBps"]))
    def token_of(self, o): return self.markets[o.market]["quote" if o.side == BUY else "base"]
    def buy_escrow(self, m, lots, price): return lots * (price + self.fpl(m, price))

    def close(self, o):
        if o.escrow: self.release(o.owner, self.token_of(o), o.escrow)
        o.escrow = 0
        del self.orders[o.id]
        self.closed.add(o.id)

    def is_expired(self, o, height): return o.expiry != 0 and height >= o.expiry

    def book(self, market, side):
        """Resting (not waiting) open orders of a side, best first: price, then arrival."""
        out = [o for o in self.orders.values() if o.market == market and o.side == side and not o.waiting]
        if side == SELL: out.sort(key=lambda o: (o.price, o.arrival))
        else: out.sort(key=lambda o: (-o.price, o.arrival))
        return out

    def fill(self, m, buy, sell, n, p, maker):
        x = n * p
        fB = fee(x, m["makerFeeBps"] if maker is buy else m["takerFeeBps"])
        fS = fee(x, m["makerFeeBps"] if maker is sell else m["takerFeeBps"])
        assert buy.escrow >= x + fB and sell.escrow >= n * m["lotSize"]
        self.pay_held(buy.owner, sell.owner, m["quote"], x - fS)
        self.pay_held(buy.owner, m["feeRecipient"], m["quote"], fB + fS)
        buy.escrow -= x + fB
        self.pay_held(sell.owner, buy.owner, m["base"], n * m["lotSize"])
        sell.escrow -= n * m["lotSize"]
        buy.lots -= n
        sell.lots -= n
        target = self.buy_escrow(m, buy.lots, buy.price)
        assert buy.escrow >= target
        if buy.escrow > target:
            self.release(buy.owner, m["quote"], buy.escrow - target)
            buy.escrow = target
        ms = self.mstate[m["id"]]
        ms.fills += 1
        ms.lots_filled += n
        self.fill_log.append(dict(buy=buy.id, sell=sell.id, lots=n, price=p, maker=maker.id, buyerFee=fB, sellerFee=fS))

    def housekeeping(self, market, rnd):
        """Batch markets: a waiting round earlier than `rnd` clears now (Placing step 4)."""
        m = self.markets[market]
        if m["matching"] == "continuous": return
        ms = self.mstate[market]
        if ms.waiting_round is not None and ms.waiting_round < rnd:
            self.clear_round(m)

    def clear_round(self, m):
        ms = self.mstate[m["id"]]
        height, rnd, ids = ms.waiting_height, ms.waiting_round, list(ms.waiting_ids)
        for o in list(self.orders.values()):
            if o.market == m["id"] and not o.waiting and self.is_expired(o, height):
                self.close(o)
        parts = [o for o in self.orders.values() if o.market == m["id"]]
        buys = [o for o in parts if o.side == BUY]
        sells = [o for o in parts if o.side == SELL]
        best = None
        for p in sorted({o.price for o in parts}):
            D = sum(o.lots for o in buys if o.price >= p)
            S = sum(o.lots for o in sells if o.price <= p)
            V, imb = min(D, S), abs(D - S)
            dist = abs(p - ms.last_price) if ms.last_price is not None else 0
            k = (-V, imb, dist, p)
            if best is None or k < best[0]: best = (k, p, V)
        ms.waiting_round, ms.waiting_ids, ms.waiting_height = None, [], 0
        if best is None or best[2] == 0:
            self.clearings.append(dict(round=rnd, price=None, lots=0))
            for o in list(self.orders.values()):
                if o.market == m["id"] and o.waiting:
                    if o.immediate: self.close(o)
                    else: o.waiting = False
            return
        _, p, V = best
        seed = H("chanlab/orderbook-round/v1", b"".join(sorted(ids)))
        def allocate(side_orders, better):
            alloc = {}
            left = V
            strictly = sorted([o for o in side_orders if better(o.price)], key=lambda o: ((-o.price if o.side == BUY else o.price), o.arrival))
            at = [o for o in side_orders if o.price == p]
            resting = sorted([o for o in at if not o.waiting], key=lambda o: o.arrival)
            own = sorted([o for o in at if o.waiting], key=lambda o: o.arrival)
            order = []
            for o in strictly + resting:
                n = min(o.lots, left)
                alloc[o.id] = n; left -= n; order.append(o)
            level = sum(o.lots for o in own)
            if own and left > 0:
                assert left <= level
                share = {o.id: left * o.lots // level for o in own}
                rest = left - sum(share.values())
                for o in sorted(own, key=lambda o: H("chanlab/orderbook-round/v1", seed + o.id)):
                    if rest == 0: break
                    if share[o.id] < o.lots:
                        share[o.id] += 1; rest -= 1
                assert rest == 0
                alloc.update(share); left = 0
                order += own
            assert left == 0
            return [(o, alloc.get(o.id, 0)) for o in order if alloc.get(o.id, 0) > 0]
        buy_alloc = allocate(buys, lambda q: q > p)
        sell_alloc = allocate(sells, lambda q: q < p)
        # Pair in priority order. (In the cases one side holds a single order, so the order of
        # the round's own orders at the clearing price decides nothing.)
        bi = si = 0
        bl = [[o, n] for o, n in buy_alloc]
        sl = [[o, n] for o, n in sell_alloc]
        while bi < len(bl) and si < len(sl):
            b, s = bl[bi], sl[si]
            n = min(b[1], s[1])
            maker = b[0] if b[0].arrival < s[0].arrival else s[0]
            self.fill(m, b[0], s[0], n, p, maker)
            b[1] -= n; s[1] -= n
            if b[1] == 0: bi += 1
            if s[1] == 0: si += 1
        ms.last_price = p
        self.clearings.append(dict(round=rnd, price=p, lots=V))
        for o in list(self.orders.values()):
            if o.market != m["id"]: continue
            if o.lots == 0 or (o.waiting and o.immediate): self.close(o)
            elif o.waiting: o.waiting = False

    def apply_orderbook(self, op, node):
        role = self.cfg["roles"][op["author"]]
        if role not in TRADE: raise not_permitted(role)        # ASSUMPTIONS["role-checked-first"]
        height, depth = node["chain_height"], node["depth"]
        if op["kind"] == CANCEL:
            oid = op["order"]
            o = self.orders.get(oid)
            # Housekeeping of the order's market (no case has a cancel in a batch market).
            if o is not None:
                m = self.markets[o.market]
                if m["matching"] != "continuous": self.housekeeping(o.market, depth // m["matching"]["batch"])
                o = self.orders.get(oid)
            if o is None:
                raise order_closed(oid) if oid in self.closed else unknown_order(oid)
            if o.owner != op["author"]: raise order_not_owned(oid)
            self.close(o)
            return
        immediate = op["kind"] == MARKET
        price = op["worst"] if immediate else op["price"]
        expiry = 0 if immediate else op["expiry"]
        post_only = (not immediate) and bool(op["flags"] & 1)
        # 1. market, tick, lot
        m = self.markets.get(op["market"])
        if m is None: raise unknown_market(op["market"])
        if price % m["tick"]: raise price_off_tick(price)
        if op["amount"] % m["lotSize"]: raise amount_off_lot(op["amount"])
        lots = op["amount"] // m["lotSize"]
        # 2. escrow fits
        if op["side"] == BUY:
            escrow, token = self.buy_escrow(m, lots, price), m["quote"]
            if escrow > AMOUNT_MAX: raise too_large()
        else:
            escrow, token = op["amount"], m["base"]
            if escrow > AMOUNT_MAX or lots * price > AMOUNT_MAX: raise too_large()
        # 3. expiry
        if not (expiry == 0 or expiry > height): raise expired(height, expiry)
        # 4. housekeeping
        batch = m["matching"] != "continuous"
        rnd = depth // m["matching"]["batch"] if batch else 0          # ASSUMPTIONS["continuous-round-is-0"]
        if batch: self.housekeeping(m["id"], rnd)
        # 5. balance
        if self.bal(op["author"], token) < escrow: raise insufficient(token, self.bal(op["author"], token), escrow)
        # 6. post-only
        if post_only:
            other = [o for o in self.book(m["id"], 1 - op["side"]) if not self.is_expired(o, height)]
            if other:
                bp = other[0].price
                if (op["side"] == BUY and bp <= price) or (op["side"] == SELL and bp >= price): raise would_cross(bp)
        # 7. room: never reached by the cases (4096 orders)
        self.hold(op["author"], token, escrow)
        o = Order(id=op["id"], owner=op["author"], market=m["id"], side=op["side"], price=price, lots=lots, escrow=escrow,
                  arrival=self.next_arrival, expiry=expiry, post_only=post_only, immediate=immediate, waiting=False, round=rnd)
        self.next_arrival += 1
        self.orders[o.id] = o
        if batch:
            if not post_only:
                ms = self.mstate[m["id"]]
                o.waiting = True
                if ms.waiting_round is None: ms.waiting_round, ms.waiting_ids, ms.waiting_height = rnd, [], 0
                assert ms.waiting_round == rnd
                ms.waiting_ids.append(o.id)
                ms.waiting_height = max(ms.waiting_height, height)
            return
        if not post_only:
            for r in self.book(m["id"], 1 - o.side)[:64]:
                if o.lots == 0: break
                if self.is_expired(r, height) or r.owner == o.owner:
                    self.close(r); continue
                if (o.side == BUY and r.price > o.price) or (o.side == SELL and r.price < o.price): break
                n = min(o.lots, r.lots)
                buy, sell = (o, r) if o.side == BUY else (r, o)
                self.fill(m, buy, sell, n, r.price, r)
                if r.lots == 0: self.close(r)
        if o.lots == 0 or o.immediate: self.close(o)

    def apply(self, op, node):
        """None when applied, else the Refusal. A refused operation keeps only its housekeeping."""
        if op["kind"] < 0x10:
            self.apply_ledger(op, node)
            return None
        try:
            self.apply_orderbook(op, node)
            return None
        except Refusal as r:
            return r

    def leaves(self):
        out = []
        for (p, t) in sorted(self.accounts):
            b, l, w = self.accounts[(p, t)]
            out.append(b"A" + u32(p) + u32(t) + i128(b) + i128(l) + i128(w))
        for n in sorted(self.used):
            out.append(b"R" + u64(n))
        for oid in sorted(self.orders):
            o = self.orders[oid]
            flags = (1 if o.post_only else 0) | (2 if o.immediate else 0) | (4 if o.waiting else 0)
            leaf = (b"O" + oid + u32(o.owner) + u32(o.market) + u8(o.side) + u128(o.price) + u128(o.lots) + u128(o.escrow)
                    + u64(o.arrival) + u64(o.expiry) + u8(flags) + u64(o.round))
            assert len(leaf) == 115
            out.append(leaf)
        for mid in sorted(self.markets):
            ms = self.mstate[mid]
            if ms.fills == 0 and ms.waiting_round is None: continue
            wr, wc = (ms.waiting_round, len(ms.waiting_ids)) if ms.waiting_round is not None else (0, 0)
            leaf = b"M" + u32(mid) + u64(ms.fills) + u128(ms.lots_filled) + u64(wr) + u32(wc)
            assert len(leaf) == 41
            out.append(leaf)
        return out

def run_model(cfg, wires):
    ops = {}
    for w in wires:
        op = decode(w)
        ops[op["id"]] = op
    nodes = {}
    def node(i):
        if i in nodes: return nodes[i]
        op = ops[i]
        own = [ops[p] for p in op["preds"] if ops[p]["author"] == op["author"]]
        assert (not own) if op["seq"] == 1 else (len(own) == 1 and own[0]["seq"] == op["seq"] - 1), "author chain"
        height = 0
        if op["kind"] == DEPOSIT:
            height = op["height"]
        elif op["kind"] == ANCHOR:
            height = op["height"]
        nodes[i] = dict(depth=1 + max((node(p)["depth"] for p in op["preds"]), default=0),
                        chain_height=max([node(p)["chain_height"] for p in op["preds"]] + [height]))
        return nodes[i]
    for i in ops: node(i)
    order = sorted(ops, key=lambda i: (nodes[i]["depth"], i))
    state = State(cfg)
    records, notes = {}, {}
    for i in order:
        op = ops[i]
        refusal = state.apply(op, nodes[i])
        if refusal is None: continue
        # Class: replay the causal past alone, then the operation (apps/README.md, Rejections).
        past, stack = set(), list(op["preds"])
        while stack:
            p = stack.pop()
            if p in past: continue
            past.add(p)
            stack.extend(ops[p]["preds"])
        view = State(cfg)
        for p in sorted(past, key=lambda j: (nodes[j]["depth"], j)):
            view.apply(ops[p], nodes[p])
        again = view.apply(op, nodes[i])
        cls = 1 if (again is not None and again.slashable) else (2 if refusal.slashable else 3)
        rec = i + u32(op["author"]) + u64(op["seq"]) + u8(cls) + u8(0x1E) + u8(op["kind"]) + u8(refusal.code) + u8(len(refusal.params)) + refusal.params
        assert len(rec) == 49 + len(refusal.params)
        records[i] = rec
        notes[i] = (refusal.text, cls)
    leaves = state.leaves()
    recs = [records[i] for i in sorted(records)]
    return dict(state=state, nodes=nodes, order=order, leaves=leaves, root=merkle_root(leaves), records=recs,
                digest=H("chanlab/rejections/v1", u32(len(recs)) + b"".join(recs)), notes=notes)

# ---------------------------------------------------------------- cases

BASE, QUOTE = 0, 1
def market(matching="continuous"):
    return dict(id=7, base=BASE, quote=QUOTE, tick=5, lotSize=10, matching=matching, makerFeeBps=10, takerFeeBps=30, feeRecipient=3)

T4 = ["trader"] * 4
cases = []

def case(name, shows, build, roles=T4, markets=None, expect_notes=None, expect_accounts=None, expect_orders=None,
         expect_market=None, assumptions=()):
    b = Builder()
    build(b)
    markets = markets or [market()]
    cfg = dict(roles=roles, tokens=[BASE, QUOTE], markets=markets)
    r = run_model(cfg, [o.wire for o in b.ops])
    label = {o.id: o.label for o in b.ops}
    def named(text):
        for oid, l in label.items(): text = text.replace(oid.hex(), l)
        return text
    notes = sorted(f"{label[i]}: {named(t)}, class {c}" for i, (t, c) in r["notes"].items())
    st = r["state"]
    accounts = {f"{p}/{t}": dict(balance=v[0], locked=v[1], withdrawn=v[2]) for (p, t), v in sorted(st.accounts.items())}
    orders = {label[o.id]: dict(owner=o.owner, side=SIDE_NAMES[o.side], price=o.price, lots=o.lots, escrow=o.escrow,
                                arrival=o.arrival, expiry=o.expiry, waiting=o.waiting, round=o.round)
              for o in sorted(st.orders.values(), key=lambda o: o.arrival)}
    fills = [dict(buy=label[f["buy"]], sell=label[f["sell"]], maker=label[f["maker"]], lots=f["lots"], price=f["price"],
                  buyerFee=f["buyerFee"], sellerFee=f["sellerFee"]) for f in st.fill_log]
    mkt = {str(k): dict(fills=v.fills, lotsFilled=v.lots_filled, waitingRound=v.waiting_round, waitingOps=len(v.waiting_ids))
           for k, v in st.mstate.items()}
    # The hand-computed intent, so that a model change cannot silently alter a case.
    if expect_notes is not None: assert notes == sorted(expect_notes), f"{name}: {notes}"
    if expect_accounts is not None: assert accounts == expect_accounts, f"{name}: {accounts}"
    if expect_orders is not None:
        got = {k: (v["lots"], v["escrow"], v["arrival"]) for k, v in orders.items()}
        assert got == expect_orders, f"{name}: {got}"
    if expect_market is not None: assert mkt["7"] == expect_market, f"{name}: {mkt}"
    # Conservation: per token, balances + locked = deposits; locked = open orders' escrows.
    for t in (BASE, QUOTE):
        dep = sum(int(o.fields["amount"]) for o in b.ops if o.kind == DEPOSIT and o.fields["token"] == t)
        assert sum(v[0] + v[1] + v[2] for (p, tt), v in st.accounts.items() if tt == t) == dep, name
    for (p, t), v in st.accounts.items():
        assert v[0] >= 0
        assert v[1] == sum(o.escrow for o in st.orders.values() if o.owner == p and st.token_of(o) == t), name
    for a in assumptions: assert a in ASSUMPTIONS
    cases.append(dict(
        name=name, shows=shows, assumptions=list(assumptions),
        config=dict(participants=len(roles), roles=roles, tokens=[BASE, QUOTE], markets=markets),
        ops=[dict(label=o.label, author=o.author, seq=o.seq, preds=[label.get(p, p.hex()) for p in o.preds],
                  payload=o.fields, id=o.id.hex(), wire=o.wire.hex()) for o in b.ops],
        expected=dict(
            leaves=[l.hex() for l in r["leaves"]], treeSize=len(r["leaves"]), stateRoot=r["root"].hex(),
            records=[x.hex() for x in r["records"]], rejectionsDigest=r["digest"].hex(),
            appliedOrder=[label[i] for i in r["order"]], notes=notes, accounts=accounts, openOrders=orders,
            fills=fills, clearings=st.clearings and [dict(c) for c in st.clearings], markets=mkt)))
    return b, r

STD = ("arrival-starts-at-0", "continuous-round-is-0", "app-credit-creates-account")

# 1. A resting ask and a crossing bid.
def crossing(b):
    b.deposit("a1", 0, BASE, 1000, nonce=1)
    b.place("a2", 0, SELL, price=105, amount=100)                 # 10 lots at 105
    b.deposit("b1", 1, QUOTE, 10000, nonce=2)
    b.place("b2", 1, BUY, price=110, amount=40, cite=["a2"])     # 4 lots at up to 110
case("cross-at-maker-price",
     "0 rests an ask of 10 lots at 105 (escrow 100 base). 1 bids 4 lots at 110: escrow 4 x (110 + fpl(110) = 1) = 444; "
     "fills 4 lots at the maker's 105: notional 420, taker (buyer) fee ceil(1.26) = 2, maker (seller) fee ceil(0.42) = 1; "
     "the seller gets 419, the fee recipient 3, the buyer 40 base and back its price improvement (444 - 422 = 22). "
     "The ask rests with 6 lots (escrow 60); the market leaf counts 1 fill of 4 lots. The buyer's base, the seller's "
     "quote and the fee recipient's quote accounts are created by the fill.",
     crossing, assumptions=STD,
     expect_notes=[],
     expect_accounts={"0/0": dict(balance=900, locked=60, withdrawn=0), "0/1": dict(balance=419, locked=0, withdrawn=0),
                      "1/0": dict(balance=40, locked=0, withdrawn=0), "1/1": dict(balance=10000 - 422, locked=0, withdrawn=0),
                      "3/1": dict(balance=3, locked=0, withdrawn=0)},
     expect_orders={"a2": (6, 60, 0)},
     expect_market=dict(fills=1, lotsFilled=4, waitingRound=None, waitingOps=0))

# 2. Price-time priority across makers, partial fills.
def priority(b):
    b.deposit("a1", 0, BASE, 100, nonce=3)
    b.place("a2", 0, SELL, price=100, amount=20)                  # arrival 0
    b.deposit("c1", 2, BASE, 100, nonce=4)
    b.place("c2", 2, SELL, price=95, amount=20, cite=["a2"])     # arrival 1
    b.place("a3", 0, SELL, price=95, amount=20, cite=["c2"])     # arrival 2
    b.deposit("b1", 1, QUOTE, 1000, nonce=5)
    b.place("b2", 1, BUY, price=100, amount=50, cite=["a3"])     # 5 lots: 2 @95 (c2), 2 @95 (a3), 1 @100 (a2)
    b.place("b3", 1, BUY, price=100, amount=20)                   # 2 lots: 1 @100 (a2), 1 rests
case("price-time-priority",
     "Asks a2 (0: 2 lots at 100), c2 (2: 2 at 95), a3 (0: 2 at 95), in this total order. 1's bid of 5 lots at 100 fills c2 "
     "then a3 (same price, earlier arrival first) at 95, then 1 lot of a2 at 100; each fill at 95 releases the price "
     "improvement (11) at once. 1's next bid of 2 lots takes a2's last lot and rests 1 lot with escrow 101. Fees: 1 each "
     "side per fill (notionals 190, 190, 100, 100).",
     priority, assumptions=STD,
     expect_notes=[],
     expect_accounts={"0/0": dict(balance=60, locked=0, withdrawn=0), "0/1": dict(balance=189 + 99 + 99, locked=0, withdrawn=0),
                      "1/0": dict(balance=60, locked=0, withdrawn=0), "1/1": dict(balance=1000 - 191 * 2 - 101 * 2 - 101, locked=101, withdrawn=0),
                      "2/0": dict(balance=80, locked=0, withdrawn=0), "2/1": dict(balance=189, locked=0, withdrawn=0),
                      "3/1": dict(balance=8, locked=0, withdrawn=0)},
     expect_orders={"b3": (1, 101, 4)},
     expect_market=dict(fills=4, lotsFilled=6, waitingRound=None, waitingOps=0))

# 3. Post-only.
def post_only(b):
    b.deposit("a1", 0, BASE, 100, nonce=6)
    b.place("a2", 0, SELL, price=100, amount=30)
    b.deposit("b1", 1, QUOTE, 1000, nonce=7)
    b.place("b2", 1, BUY, price=100, amount=10, post_only=True, cite=["a2"])
    b.place("b3", 1, BUY, price=95, amount=20, post_only=True)
    b.deposit("c1", 2, BASE, 100, nonce=8)
    b.place("c2", 2, SELL, price=95, amount=10, post_only=True, cite=["b3"])
    b.place("c3", 2, SELL, price=95, amount=10)
case("post-only",
     "A post-only bid at 100 meets the resting ask at 100: wouldCross(100), void (class 3). A post-only bid of 2 lots at 95 "
     "rests (flags 01). A post-only ask at 95 would cross it: wouldCross(95), void. A plain ask at 95 takes 1 lot of the "
     "post-only bid, which is the maker: buyer fee ceil(0.095) = 1, seller fee ceil(0.285) = 1.",
     post_only, assumptions=STD,
     expect_notes=["b2: wouldCross(100), class 3", "c2: wouldCross(95), class 3"],
     expect_orders={"a2": (3, 30, 0), "b3": (1, 96, 1)},
     expect_market=dict(fills=1, lotsFilled=1, waitingRound=None, waitingOps=0))

# 4. Cancels by a non-owner.
NO_ORDER = H("chanlab/test/no-such-order", b"")
def foreign_cancel(b):
    b.deposit("a1", 0, BASE, 100, nonce=9)
    b.place("a2", 0, SELL, price=100, amount=20)
    b.cancel("b1", 1, "a2", cite=["a2"])
    b.cancel("b2", 1, NO_ORDER)
    b.cancel("a3", 0, "a2", cite=["b2"])
    b.cancel("b3", 1, "a2", cite=["a3"])
case("cancel-by-non-owner",
     "1 cancels 0's open ask: orderNotOwned, class 1 (slashable, and the order is in its causal past). 1 cancels an id no "
     "one placed: unknownOrder, void (class 3). 0 cancels its ask (escrow released). 1 cancels it again: orderClosed, "
     "void: the order is checked open before it is checked owned.",
     foreign_cancel, assumptions=STD + ("cancel-checks-open-before-owner",),
     expect_notes=["b1: orderNotOwned(a2), class 1", f"b2: unknownOrder({NO_ORDER.hex()}), class 3", "b3: orderClosed(a2), class 3"],
     expect_accounts={"0/0": dict(balance=100, locked=0, withdrawn=0)},
     expect_orders={})

# 5. Cancel twice.
def cancel_twice(b):
    b.deposit("a1", 0, BASE, 100, nonce=10)
    b.place("a2", 0, SELL, price=100, amount=20)
    b.cancel("a3", 0, "a2")
    b.cancel("a4", 0, "a2")
    b.place("a5", 0, SELL, price=110, amount=10)
case("cancel-twice",
     "0 cancels its ask (escrow 20 released) and cancels it again: orderClosed, void (class 3). Its next ask takes the next "
     "arrival number (1: the cancelled order keeps 0).",
     cancel_twice, assumptions=STD,
     expect_notes=["a4: orderClosed(a2), class 3"],
     expect_accounts={"0/0": dict(balance=90, locked=10, withdrawn=0)},
     expect_orders={"a5": (1, 10, 1)})

# 6. Insufficient balance: invalid in causal past, and a concurrent conflict.
def insufficient_build(price):
    def build(b):
        b.deposit("a1", 0, BASE, 10, nonce=11)
        b.place("a2", 0, SELL, price=100, amount=10)              # the only lot
        b.deposit("b1", 1, QUOTE, 1000, nonce=12)
        b.place("b2", 1, BUY, price=price, amount=10, cite=["a2"])
        b.deposit("c1", 2, QUOTE, 1000, nonce=13)
        b.place("c2", 2, BUY, price=100, amount=10, cite=["a2"])
        b.place("c3", 2, SELL, price=120, amount=10)
        b.place("b3", 1, BUY, price=100, amount=100)
    return build
for grind_price in range(100, 1000, 5):
    probe = Builder()
    insufficient_build(grind_price)(probe)
    if probe.labels["b2"] < probe.labels["c2"]: break
else:
    raise AssertionError("no price puts b2 first")
case("insufficient-balance",
     f"0 asks 1 lot at 100. 1 (bid at {grind_price}, price chosen so that its id is the smaller) and 2 (bid at 100) both cite "
     "it at depth 3: 1's bid takes the lot (x = 100, fees 1 and 1) and 2's rests. 2 then offers the 10 base its own view "
     "shows it bought: insufficientBalance(token 0, available 0, needed 10) as a concurrent conflict (class 2: in its causal "
     "past it bought). 1 bids 10 lots at 100 with 899 quote left: needed 10 x 101 = 1010, class 1.",
     insufficient_build(grind_price), assumptions=STD,
     expect_notes=["b3: insufficientBalance(token 1, available 899, needed 1010), class 1",
                   "c3: insufficientBalance(token 0, available 0, needed 10), class 2"],
     expect_orders={"c2": (1, 101, 2)},
     expect_market=dict(fills=1, lotsFilled=1, waitingRound=None, waitingOps=0))

# 7. Expiry.
def expiry(b):
    b.deposit("a1", 0, BASE, 100, nonce=14)                       # receipt height 1
    b.place("a2", 0, SELL, price=100, amount=10, expiry=1)        # expired at placement
    b.place("a3", 0, SELL, price=100, amount=20, expiry=5)        # rests, arrival 0
    b.place("a4", 0, SELL, price=105, amount=20)                  # rests, arrival 1
    b.deposit("b1", 1, QUOTE, 1000, nonce=15)
    b.anchor("b2", 1, 5)
    b.place("b3", 1, BUY, price=105, amount=30, cite=["a4"])     # chain height 5
case("expiry",
     "An ask with expiry 1 at chain height 1: expired(chainHeight 1, expiry 1), void (class 3). An ask expiring at 5 and one "
     "without expiry rest. 1 cites a chain anchor at height 5 and bids 3 lots at 105: the better ask is expired at the "
     "taker's chain height (5 >= 5), so it is closed (its 20 base released) and skipped; 2 lots fill at 105 and 1 lot rests "
     "(escrow 318 - 211 trimmed to 106).",
     expiry, assumptions=STD,
     expect_notes=["a2: expired(chainHeight 1, expiry 1), class 3"],
     expect_accounts={"0/0": dict(balance=80, locked=0, withdrawn=0), "0/1": dict(balance=209, locked=0, withdrawn=0),
                      "1/0": dict(balance=20, locked=0, withdrawn=0), "1/1": dict(balance=1000 - 211 - 106, locked=106, withdrawn=0),
                      "3/1": dict(balance=2, locked=0, withdrawn=0)},
     expect_orders={"b3": (1, 106, 2)},
     expect_market=dict(fills=1, lotsFilled=2, waitingRound=None, waitingOps=0))

# 8. Market order (IOC).
def market_order(b):
    b.deposit("a1", 0, BASE, 100, nonce=16)
    b.place("a2", 0, SELL, price=100, amount=20)
    b.place("a3", 0, SELL, price=105, amount=10)
    b.place("a4", 0, SELL, price=110, amount=30)
    b.deposit("b1", 1, QUOTE, 2000, nonce=17)
    b.market("b2", 1, BUY, amount=50, worst=105, cite=["a4"])
case("market-order-ioc",
     "Asks of 2 lots at 100, 1 at 105, 3 at 110. A market buy of 5 lots, worst price 105 (escrow 5 x 106 = 530): 2 lots at "
     "100, 1 at 105, then the ask at 110 is beyond its worst price; the 2 lots left are dropped (immediate or cancel) and "
     "the rest of the escrow released. The ask at 110 stays.",
     market_order, assumptions=STD + ("market-order-takes-an-arrival",),
     expect_notes=[],
     expect_accounts={"0/0": dict(balance=40, locked=30, withdrawn=0), "0/1": dict(balance=199 + 104, locked=0, withdrawn=0),
                      "1/0": dict(balance=30, locked=0, withdrawn=0), "1/1": dict(balance=2000 - 201 - 106, locked=0, withdrawn=0),
                      "3/1": dict(balance=4, locked=0, withdrawn=0)},
     expect_orders={"a4": (3, 30, 2)},
     expect_market=dict(fills=2, lotsFilled=3, waitingRound=None, waitingOps=0))

# 9. Self-trade prevention.
def self_trade(b):
    b.deposit("a1", 0, BASE, 100, nonce=18)
    b.deposit("a2", 0, QUOTE, 1000, nonce=19)
    b.place("a3", 0, SELL, price=100, amount=20)                  # arrival 0
    b.deposit("c1", 2, BASE, 100, nonce=20)
    b.place("c2", 2, SELL, price=100, amount=20, cite=["a3"])    # arrival 1
    b.place("a4", 0, BUY, price=100, amount=30, cite=["c2"])     # meets its own ask first
case("self-trade-prevention",
     "0's bid of 3 lots at 100 meets its own ask first (same price, earlier): that ask is closed (20 base released) and "
     "skipped, matching continues with 2's ask (2 lots), and 1 lot rests (escrow 303 - 201 trimmed to 101).",
     self_trade, assumptions=STD,
     expect_notes=[],
     expect_accounts={"0/0": dict(balance=120, locked=0, withdrawn=0), "0/1": dict(balance=1000 - 201 - 101, locked=101, withdrawn=0),
                      "2/0": dict(balance=80, locked=0, withdrawn=0), "2/1": dict(balance=199, locked=0, withdrawn=0),
                      "3/1": dict(balance=2, locked=0, withdrawn=0)},
     expect_orders={"a4": (1, 101, 2)},
     expect_market=dict(fills=1, lotsFilled=2, waitingRound=None, waitingOps=0))

# 10. Refusals fixed by the operation and the configuration.
TOP = AMOUNT_MAX // 5 * 5
def fixed(b):
    b.deposit("a1", 0, QUOTE, 1000, nonce=21)
    b.place("a2", 0, BUY, price=100, amount=10, market=8)
    b.place("a3", 0, BUY, price=101, amount=10)
    b.place("a4", 0, BUY, price=100, amount=15)
    b.place("a5", 0, BUY, price=TOP, amount=10)
    b.place("a6", 0, SELL, price=TOP, amount=20)
    b.market("a7", 0, BUY, amount=10, worst=100, market=9)
    b.market("a8", 0, BUY, amount=10, worst=102)
    b.place("o1", 2, BUY, price=100, amount=10, cite=["a1"])
    b.deposit("m1", 1, QUOTE, 1000, nonce=22)
    b.place("m2", 1, BUY, price=100, amount=10)
case("fixed-refusals",
     "Roles trader, marketMaker, observer, trader. unknownMarket(8) (place) and (9) (market order), priceOffTick(101) and "
     "(102) (a market order's worst price), amountOffLot(15), tooLarge for a buy whose escrow 1 x (L + fpl(L)) passes "
     "2^96 - 1 and for a sell of 2 lots whose notional 2 x L does (checked before the balance: 0 holds no base), and the "
     "observer's order: notPermitted(observer, code 5). All class 1. The market maker's bid rests.",
     fixed, roles=["trader", "marketMaker", "observer", "trader"], assumptions=STD + ("role-checked-first",),
     expect_notes=["a2: unknownMarket(8), class 1", "a3: priceOffTick(101), class 1", "a4: amountOffLot(15), class 1",
                   "a5: tooLarge, class 1", "a6: tooLarge, class 1", "a7: unknownMarket(9), class 1",
                   "a8: priceOffTick(102), class 1", "o1: notPermitted(observer), class 1"],
     expect_accounts={"0/1": dict(balance=1000, locked=0, withdrawn=0), "1/1": dict(balance=899, locked=101, withdrawn=0)},
     expect_orders={"m2": (1, 101, 0)})

# 11. A batch round at one price, pro rata.
def batch_build(nonce):
  def batch(b):
    # Round width 2: deposits at depth 1 are round 0; the orders at depths 2 and 3 are round 1;
    # 0's last order, at depth 4, is round 2 and clears round 1 first.
    b.deposit("a1", 0, BASE, 200, nonce=nonce)
    b.place("s1", 0, SELL, price=1000, amount=100)                # 10 lots at 1000, depth 2
    b.deposit("b1", 1, QUOTE, 20000, nonce=24)
    b.place("b2", 1, BUY, price=1050, amount=20)                  # 2 lots at 1050, depth 2
    b.place("b3", 1, BUY, price=1000, amount=40)                  # 4 lots at 1000, depth 3
    b.deposit("c1", 2, QUOTE, 20000, nonce=25)
    b.place("c2", 2, BUY, price=1000, amount=40)                  # 4 lots at 1000, depth 2
    b.place("c3", 2, BUY, price=1000, amount=30)                  # 3 lots at 1000, depth 3
    b.place("t1", 0, SELL, price=1200, amount=10, cite=["b3"])   # depth 4: round 2
  return batch
# The ask's receipt nonce is chosen so that the ask sorts between the two depth-2 bids: a bid is
# the maker of one fill and the ask of the others.
for batch_nonce in range(100, 200):
    probe = Builder()
    batch_build(batch_nonce)(probe)
    if min(probe.labels["b2"], probe.labels["c2"]) < probe.labels["s1"] < max(probe.labels["b2"], probe.labels["c2"]): break
else:
    raise AssertionError("no nonce puts the ask between the bids")
case("batch-pro-rata",
     "Batch market (round width 2). Round 1 (depths 2 and 3) holds an ask of 10 lots at 1000 and bids of 2 lots at 1050 and "
     "4, 4, 3 lots at 1000. 0's ask at depth 4 (round 2) clears round 1 before it waits: price 1000 (volume 10; at 1050 "
     "only 2); the bid at 1050 fills in full (2, its price improvement released); the 8 lots left are shared by the three "
     "bids at 1000 (11 lots): floor(8 x 4/11) = 2, 2, floor(8 x 3/11) = 2, and the 2 lots the rounding leaves go one each "
     "to the first two in ascending H(seed || id), seed = H(round tag, the round's five order ids sorted). Four fills at "
     "1000, maker = the earlier arrival (maker fee 10 bps, taker 30 bps: 2 vs 6 on 2000, 3 vs 9 on 3000); the unfilled bids "
     "rest (round 1, no longer waiting); the new ask waits in round 2 (market leaf: 4 fills, 10 lots, waiting round 2, 1 "
     "operation).",
     batch_build(batch_nonce), markets=[market({"batch": 2})], assumptions=("arrival-starts-at-0", "app-credit-creates-account", "round-operations-are-its-waiting-orders"))
bc = cases[-1]["expected"]
assert bc["clearings"] == [dict(round=1, price=1000, lots=10)], bc["clearings"]
assert bc["markets"]["7"] == dict(fills=4, lotsFilled=10, waitingRound=2, waitingOps=1)
assert [f["lots"] for f in bc["fills"]][0] == 2 and sorted(f["lots"] for f in bc["fills"][1:]) == [2, 3, 3], bc["fills"]
assert sum(v["lots"] for k, v in bc["openOrders"].items() if k != "t1") == 11 - 8
assert bc["openOrders"]["t1"]["waiting"] and bc["openOrders"]["t1"]["round"] == 2
assert {f["maker"] for f in bc["fills"]} != {"s1"}, "some fill has a buyer as maker"
assert any(f["buyerFee"] != f["sellerFee"] for f in bc["fills"])

out = dict(
    spec="docs/apps/orderbook.md, docs/apps/README.md, docs/wire-format.md (conventions, unsigned operation, identity and "
         "signature, state root, rejection records), docs/merge-and-ledger.md (total order, chain time, classes)",
    generator="scripts/make-orderbook-golden.py",
    labSeed=SEED, channel=channel.hex(), fundingPublicKey=funding_pk.hex(),
    publicKeys=[pk.hex() for _, pk in keys],
    assumptions=ASSUMPTIONS,
    openQuestions=OPEN_QUESTIONS,
    cases=cases)
path = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "orderbook-golden.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {path}")
