#!/usr/bin/env python3
"""usage: score.py DATADIR RUNDIR  -> pair-closure P/R/F1 of Steward's crosswalk vs truth, baselines, bound, diagnosis.

Reads only the raw files written by gen.py (its own headers) and RUNDIR/crosswalk.csv.
"""
import csv
import datetime as dt
import itertools
import os
import re
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import TRAD  # noqa: E402  (our own generator's trad map, to fold traditional characters back)
from pypinyin import lazy_pinyin  # noqa: E402

SIMP = {t: s for s, t in TRAD.items()}
FILES = {
    "wx_mini_members_20240630.csv": "mp",
    "gzh_fans_export.csv": "oa",
    "douyin_laike_leads_2024Q2.csv": "dy",
    "ExportOrderList202406301830.csv": "tm",
    "pos_members.xlsx": "pos",
    "crm_customers_full.csv": "crm",
    "kefu_tickets.csv": "tk",
}
OA_APP = "wx5e6f7a8b9c0d1e23"
SAL = re.compile(r"^(.{1,2}?)(先生|女士|小姐)$")


# ------------------------------------------------------------------ normalizers
def halfwidth(s):
    return "".join(chr(ord(c) - 0xFEE0) if "\uff10" <= c <= "\uff19" else c for c in s)


def norm_mobile(v):
    """full mobile or None; masked key 'pre****suf' returned separately"""
    if not v:
        return None, None
    v = halfwidth(str(v)).strip().lstrip("'")
    if "****" in v:
        d = v.replace(" ", "")
        m = re.match(r"^(\d{3})\*{4}(\d{4})$", d)
        return None, (m.group(1) + "*" + m.group(2)) if m else None
    if re.match(r"^1\d{10}-\d{3,4}$", v):
        return None, None  # platform privacy (virtual) number with extension
    d = re.sub(r"\D", "", v)
    if len(d) == 13 and d.startswith("86"):
        d = d[2:]
    if len(d) == 11 and d.startswith("1"):
        if re.match(r"^1\d\d(\d)\1{7}$", d) or d == "13800000000":
            return None, None  # obvious placeholder
        return d, None
    return None, None


def norm_landline(v):
    if not v:
        return None
    d = re.sub(r"\D", "", halfwidth(str(v)))
    if d.startswith("0") and 10 <= len(d) <= 12:
        return d
    return None


def id15to18(s):
    f17 = s[:6] + "19" + s[6:]
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return f17 + "10X98765432"[sum(int(a) * b for a, b in zip(f17, w)) % 11]


def norm_id(v):
    if not v:
        return None
    v = str(v).strip().upper()
    if re.match(r"^\d{17}[\dX]$", v):
        return v
    if re.match(r"^\d{15}$", v):
        return id15to18(v)
    return None


def name_info(v):
    """returns dict with hanzi (simplified, no spaces), py keys, surname, sex from salutation"""
    if not v:
        return None
    v = str(v).strip()
    if v in ("-", "未填写"):
        return None
    s = re.sub(r"\s+", " ", v)
    m = SAL.match(s.replace(" ", ""))
    if m:
        return {"sal": (m.group(1), "M" if m.group(2) == "先生" else "F")}
    if re.match(r"^[A-Za-z ]+$", s):
        toks = s.lower().split()
        keys = {"".join(toks), "".join(reversed(toks))} if len(toks) == 2 else {"".join(toks)}
        return {"py": keys, "pinyin": True}
    hz = "".join(SIMP.get(c, c) for c in s.replace(" ", ""))
    if not re.match(r"^[\u4e00-\u9fff]{2,4}$", hz):
        return None
    return {"hz": hz, "py": {"".join(lazy_pinyin(hz))}, "sur": hz[:2] if hz[:2] in ("欧阳", "司马", "上官", "诸葛") else hz[:1]}


def names_compatible(a, b):
    """'name' exact/pinyin, 'name~' one char different (same length), 'surname' surname/salutation only"""
    if not a or not b:
        return None
    if "sal" in a or "sal" in b:
        sa = a.get("sal", (a.get("sur"), None))
        sb = b.get("sal", (b.get("sur"), None))
        if sa[0] and sa[0] == sb[0]:
            return "surname"
        return None
    if "hz" in a and "hz" in b:
        if a["hz"] == b["hz"]:
            return "name"
        if len(a["hz"]) == len(b["hz"]) and sum(x != y for x, y in zip(a["hz"], b["hz"])) == 1:
            return "name~"
        return None
    if a["py"] & b["py"]:
        return "name"
    return None


def near_mobile(a, b):
    if a == b or len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
        return True
    return False


def parse_birth(v):
    if v is None or v == "":
        return None, None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.strftime("%Y-%m-%d"), v.strftime("%m-%d")
    s = str(v).strip()
    for pat in (r"^(\d{4})-(\d{1,2})-(\d{1,2})", r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"^(\d{4})(\d{2})(\d{2})$", r"^(\d{4})年(\d{1,2})月(\d{1,2})日"):
        m = re.match(pat, s)
        if m:
            y, mo, d = map(int, m.groups())
            return f"{y:04d}-{mo:02d}-{d:02d}", f"{mo:02d}-{d:02d}"
    m = re.match(r"^(\d{1,2})-(\d{1,2})$", s) or re.match(r"^(\d{1,2})月(\d{1,2})日$", s)
    if m:
        mo, d = map(int, m.groups())
        return None, f"{mo:02d}-{d:02d}"
    return None, None


ADDR = re.compile(r"([\u4e00-\u9fff]{1,4}(?:路|大道))(\d+)号([\u4e00-\u9fff]+?)(\d+)栋(\d+)单元(\d+)")


def addr_key(*parts):
    s = " ".join(p for p in parts if p)
    m = ADDR.search(s)
    return "|".join(m.groups()) if m else None


def nick_norm(v):
    if not v:
        return None
    v = re.sub(r"[\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F]", "", str(v)).strip()
    if not v or v in ("微信用户",) or re.match(r"^用户\d{6,}$", v):
        return None
    return v


# ------------------------------------------------------------------ readers
def read_csv(path, enc):
    with open(path, encoding=enc, newline="") as f:
        return list(csv.DictReader(f))


def load_records(datadir):
    recs = {}
    truth = {}
    for r in read_csv(os.path.join(datadir, "truth.csv"), "utf-8"):
        truth[(r["file"], int(r["row_number"]))] = r["person_id"]
    meta = {}
    for r in read_csv(os.path.join(datadir, "meta.csv"), "utf-8"):
        meta[(r["file"], int(r["row_number"]))] = r

    def add(fname, i, raw, **kw):
        key = (fname, i)
        mob, mask = set(), set()
        for v in kw.pop("phones", []):
            m, mk = norm_mobile(v)
            if m:
                mob.add(m)
            if mk:
                mask.add(mk)
        recs[key] = dict(file=fname, ch=FILES[fname], row=i, pid=truth[key], meta=meta.get(key, {}), raw=raw,
                         mob=mob, mask=mask, **kw)

    f = "wx_mini_members_20240630.csv"
    for i, r in enumerate(read_csv(os.path.join(datadir, f), "utf-8-sig"), 1):
        add(f, i, r, phones=[r["绑定手机"]], openid=(r["appid"], r["用户openid"]), union=r["UnionId"] or None,
            name=name_info(r["姓名(实名)"]), nick=nick_norm(r["微信昵称"]))
    f = "gzh_fans_export.csv"
    for i, r in enumerate(read_csv(os.path.join(datadir, f), "utf-8"), 1):
        rem = re.sub(r"(-.*|\(.*\)| VIP)$", "", r["备注名"]) if r["备注名"] else ""
        add(f, i, r, openid=(OA_APP, r["粉丝openid"]), union=r["unionid"] or None, name=name_info(rem),
            nick=nick_norm(r["粉丝昵称"]))
    f = "douyin_laike_leads_2024Q2.csv"
    for i, r in enumerate(read_csv(os.path.join(datadir, f), "utf-8"), 1):
        cn = name_info(r["联系人"])
        add(f, i, r, phones=[r["联系电话"]], douyin=r["抖音UID"], name=cn, nick=nick_norm(r["抖音昵称"]),
            nick2=nick_norm(r["联系人"]) if not cn or "sal" not in cn else None)
    f = "ExportOrderList202406301830.csv"
    for i, r in enumerate(read_csv(os.path.join(datadir, f), "gbk"), 1):
        r = {k.strip(): v for k, v in r.items()}
        pay = r["买家支付宝账号"]
        pm = None
        if "****" in pay:
            pm = norm_mobile(pay)[1]
        add(f, i, r, phones=[r["联系手机"]], buyer=r["买家会员名"], name=name_info(r["收货人姓名"]),
            addr=addr_key(r["收货地址"]), land=norm_landline(r["联系电话"]), paymask=pm)
    f = "pos_members.xlsx"
    import openpyxl
    wb = openpyxl.load_workbook(os.path.join(datadir, f), read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    hdr = list(rows[1])
    for i, row in enumerate(rows[2:], 1):
        r = dict(zip(hdr, row))
        full, mmdd = parse_birth(r["生日"])
        add(f, i, {k: ("" if v is None else str(v)) for k, v in r.items()}, phones=[r["联系方式"]],
            name=name_info(r["顾客姓名"]), birth=full, mmdd=mmdd, sex=r["性别"])
    f = "crm_customers_full.csv"
    for i, r in enumerate(read_csv(os.path.join(datadir, f), "utf-8"), 1):
        full, mmdd = parse_birth(r["出生年月日"])
        idc = norm_id(r["证件号码"])
        if idc and not full:
            full, mmdd = f"{idc[6:10]}-{idc[10:12]}-{idc[12:14]}", f"{idc[10:12]}-{idc[12:14]}"
        add(f, i, r, phones=[r["手机"]], idc=idc, email=(r["E-mail"] or "").lower() or None, birth=full, mmdd=mmdd,
            name=name_info(r["客户姓名"]), addr=addr_key(r["联系地址"]), union=r["微信unionid"] or None)
    f = "kefu_tickets.csv"
    for i, r in enumerate(read_csv(os.path.join(datadir, f), "utf-8"), 1):
        idc = norm_id(r["身份证"])
        add(f, i, r, phones=[r["联系电话"]], idc=idc, email=(r["邮箱地址"] or "").lower() or None,
            name=name_info(r["客户称呼"]), land=norm_landline(r["联系电话"]) if not norm_mobile(r["联系电话"])[0] else None,
            nick=nick_norm(r["客户称呼"]) if not name_info(r["客户称呼"]) else None,
            birth=(f"{idc[6:10]}-{idc[10:12]}-{idc[12:14]}" if idc else None))
    for r in recs.values():
        for fld in ("openid", "union", "name", "nick", "nick2", "douyin", "buyer", "addr", "land", "paymask", "birth",
                    "mmdd", "idc", "email", "sex"):
            r.setdefault(fld, None)
    return recs


# ------------------------------------------------------------------ evidence
def evidence(a, b):
    ev = set()
    if a["mob"] & b["mob"]:
        ev.add("mobile")
    elif any(near_mobile(x, y) for x in a["mob"] for y in b["mob"]):
        ev.add("mobile~1")
    ka = a["mask"] | {m[:3] + "*" + m[7:] for m in a["mob"]}
    kb = b["mask"] | {m[:3] + "*" + m[7:] for m in b["mob"]}
    if "mobile" not in ev and (a["mask"] & kb or b["mask"] & ka):
        ev.add("masked_mobile")
    pa = {a["paymask"]} if a["paymask"] else set()
    pb = {b["paymask"]} if b["paymask"] else set()
    if (pa & kb) or (pb & ka) or (pa & pb):
        ev.add("pay_account")
    if a["idc"] and a["idc"] == b["idc"]:
        ev.add("id_card")
    if a["union"] and a["union"] == b["union"]:
        ev.add("unionid")
    if a["openid"] and a["openid"] == b["openid"]:
        ev.add("openid")
    if a["douyin"] and a["douyin"] == b["douyin"]:
        ev.add("douyin_id")
    if a["buyer"] and a["buyer"] == b["buyer"]:
        ev.add("buyer_nick")
    if a["email"] and a["email"] == b["email"]:
        ev.add("email")
    if a["land"] and a["land"] == b["land"]:
        ev.add("landline")
    nc = names_compatible(a["name"], b["name"])
    if nc:
        ev.add(nc)
    if a["birth"] and a["birth"] == b["birth"]:
        ev.add("birth")
    elif a["mmdd"] and a["mmdd"] == b["mmdd"]:
        ev.add("mmdd")
    if a["addr"] and a["addr"] == b["addr"]:
        ev.add("address")
    na = {x for x in (a["nick"], a["nick2"]) if x}
    nb = {x for x in (b["nick"], b["nick2"]) if x}
    if na & nb:
        ev.add("nickname")
    return ev


STRONG = {"mobile", "id_card", "unionid", "openid", "douyin_id", "buyer_nick", "email"}


def identifying(ev):
    """the bound's notion of 'identifying evidence' between two records of one person"""
    if ev & STRONG:
        return True
    # 7 shared digits (masked 138****5530, Alipay account), a one-digit mobile typo, a shared landline:
    # each is close to unique among ~16k records, so each counts on its own
    if ev & {"mobile~1", "masked_mobile", "pay_account", "landline"}:
        return True
    if ev & {"name", "name~"} and ev & {"birth", "mmdd", "address"}:
        return True
    return False


# ------------------------------------------------------------------ metrics
def clusters_to_pairs_counts(assign, recs):
    """assign: rec key -> cluster label. returns Counter((cha,chb) -> pairs) and total"""
    groups = defaultdict(list)
    for k, c in assign.items():
        groups[c].append(recs[k]["ch"])
    out = Counter()
    for chs in groups.values():
        cc = Counter(chs)
        keys = sorted(cc)
        for i, x in enumerate(keys):
            out[(x, x)] += cc[x] * (cc[x] - 1) // 2
            for y in keys[i + 1:]:
                out[(x, y)] += cc[x] * cc[y]
    return out


def tp_counts(pred, recs):
    joint = {k: (pred[k], recs[k]["pid"]) for k in recs}
    return clusters_to_pairs_counts(joint, recs)


def prf(tp, pp, tt):
    p = tp / pp if pp else 1.0
    r = tp / tt if tt else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


class UF:
    def __init__(self, keys):
        self.p = {k: k for k in keys}

    def find(self, x):
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.p[a] = b


def link_by_keys(recs, keyfuncs):
    uf = UF(list(recs))
    for kf in keyfuncs:
        idx = defaultdict(list)
        for k, r in recs.items():
            for v in kf(r):
                idx[v].append(k)
        for ks in idx.values():
            for x in ks[1:]:
                uf.union(ks[0], x)
    return {k: uf.find(k) for k in recs}


def mask(v, keep=3, end=4):
    v = str(v or "")
    if len(v) <= keep + end:
        return v
    return v[:keep] + "*" * (len(v) - keep - end) + v[-end:]


def show(r):
    raw = r["raw"]
    f = r["ch"]
    pick = {
        "mp": ["微信昵称", "绑定手机", "姓名(实名)", "UnionId", "appid"],
        "oa": ["粉丝昵称", "unionid", "备注名"],
        "dy": ["抖音UID", "抖音昵称", "联系人", "联系电话", "所在地区", "年龄段"],
        "tm": ["买家会员名", "买家支付宝账号", "收货人姓名", "联系手机", "收货地址", "买家留言"],
        "pos": ["顾客姓名", "联系方式", "生日", "性别", "办卡门店"],
        "crm": ["客户姓名", "手机", "证件号码", "E-mail", "出生年月日", "联系地址", "微信unionid"],
        "tk": ["客户称呼", "联系电话", "身份证", "邮箱地址"],
    }[f]
    parts = []
    for c in pick:
        v = str(raw.get(c, "") or "").replace("\n", " ")
        if not v:
            continue
        if c in ("绑定手机", "联系电话", "联系手机", "联系方式", "手机"):
            v = v if "*" in v else (v[:len(v) - 8] + "****" + v[-4:] if len(v) >= 11 else v)
        elif c in ("证件号码", "身份证"):
            v = mask(v, 6, 2)
        elif c in ("UnionId", "unionid", "微信unionid", "抖音UID"):
            v = mask(v, 4, 3)
        elif c in ("E-mail", "邮箱地址"):
            v = mask(v, 2, 8)
        elif c == "收货地址":
            v = re.sub(r"\d+单元\d+", "x单元xxx", v).replace(" 000000", "")
        parts.append(f"{c}={v}")
    m = r["meta"]
    note = f"[{m.get('phone_kind', '')}/{m.get('name_kind', '')}{'/rcv=' + m['receiver_pid'] if m.get('receiver_pid') else ''}]"
    return f"{r['ch']}#{r['row']} {r['pid']} {note} " + "; ".join(parts)


def main():
    datadir, rundir = sys.argv[1], sys.argv[2]
    recs = load_records(datadir)
    src2file = {os.path.splitext(f)[0]: f for f in FILES}
    pred = {}
    placed = {}
    with open(os.path.join(rundir, "crosswalk.csv"), encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            k = (src2file[r["source"]], int(r["row_number"]))
            pred[k] = r["oneid"]
            placed[k] = r["placed_by"]
    missing = [k for k in recs if k not in pred]
    for k in missing:
        pred[k] = ("MISSING",) + k
    out = []
    P = out.append
    P(f"records {len(recs)}; persons {len(set(r['pid'] for r in recs.values()))}; crosswalk rows {len(pred) - len(missing)}; "
      f"records absent from crosswalk {len(missing)}; OneIDs {len(set(pred.values()))}")

    truth_assign = {k: r["pid"] for k, r in recs.items()}
    TT = clusters_to_pairs_counts(truth_assign, recs)
    tt = sum(TT.values())

    def evaluate(assign, label):
        PP = clusters_to_pairs_counts(assign, recs)
        TPc = tp_counts(assign, recs)
        p, r, f = prf(sum(TPc.values()), sum(PP.values()), tt)
        P(f"{label:<44} P={p:.4f} R={r:.4f} F1={f:.4f}  (pred pairs {sum(PP.values())}, TP {sum(TPc.values())}, true {tt})")
        return PP, TPc

    P("\n== overall pair-closure metrics")
    PPs, TPs = evaluate(pred, "Steward (crosswalk)")
    mob_only = link_by_keys(recs, [lambda r: r["mob"]])
    evaluate(mob_only, "baseline: exact normalized mobile")
    exact = link_by_keys(recs, [lambda r: r["mob"], lambda r: [r["idc"]] if r["idc"] else [],
                                lambda r: [r["union"]] if r["union"] else [], lambda r: [r["openid"]] if r["openid"] else []])
    evaluate(exact, "baseline: mobile|id_card|unionid|openid")

    # bound: closure of true pairs that share identifying evidence
    bypid = defaultdict(list)
    for k, r in recs.items():
        bypid[r["pid"]].append(k)
    uf = UF(list(recs))
    true_pairs = []
    for ks in bypid.values():
        for a, b in itertools.combinations(ks, 2):
            ev = evidence(recs[a], recs[b])
            true_pairs.append((a, b, ev))
            if identifying(ev):
                uf.union(a, b)
    bound = {k: uf.find(k) for k in recs}
    evaluate(bound, "upper bound: closure of evidenced true pairs")
    bound_any = UF(list(recs))
    for a, b, ev in true_pairs:
        if ev:
            bound_any.union(a, b)
    evaluate({k: bound_any.find(k) for k in recs}, "loose bound: any shared value incl. nick/surname")

    # review queue (not applied by resolve): what would approving it give?
    qpath = os.path.join(rundir, "review_queue.txt")
    if os.path.exists(qpath):
        b2f = {}
        with open(os.path.join(rundir, "ingest.jsonl"), encoding="utf-8") as f:
            for line in f:
                j = __import__("json").loads(line)
                b2f[str(j["batch_id"])] = j["file"]
        qp = []
        for line in open(qpath, encoding="utf-8").read().splitlines()[1:]:
            t = line.split()
            if len(t) >= 2 and ":" in t[0] and ":" in t[1]:
                (bl, rl), (br, rr) = t[0].split(":"), t[1].split(":")
                qp.append(((b2f[bl], int(rl)), (b2f[br], int(rr))))
        qt = sum(recs[a]["pid"] == recs[b]["pid"] for a, b in qp)
        P(f"review queue: {len(qp)} pairs, {qt} of them true ({qt / max(1, len(qp)):.1%})")
        for label, sel in (("Steward + every queued pair approved", lambda a, b: True),
                           ("Steward + only true queued pairs (oracle)", lambda a, b: recs[a]["pid"] == recs[b]["pid"])):
            uq = UF(list(recs))
            groups0 = defaultdict(list)
            for k in recs:
                groups0[pred[k]].append(k)
            for ks in groups0.values():
                for x in ks[1:]:
                    uq.union(ks[0], x)
            for a, b in qp:
                if sel(a, b):
                    uq.union(a, b)
            evaluate({k: uq.find(k) for k in recs}, label)

    P("\n== per channel pair (Steward)  pairs: true / predicted / TP ; P R ; bound R")
    BTP = tp_counts(bound, recs)
    rows = []
    for cp in sorted(set(TT) | set(PPs)):
        t, pp, tp = TT.get(cp, 0), PPs.get(cp, 0), TPs.get(cp, 0)
        p, r, _ = prf(tp, pp, t)
        br = BTP.get(cp, 0) / t if t else 1
        rows.append((cp, t, pp, tp, p, r, br))
    for cp, t, pp, tp, p, r, br in sorted(rows, key=lambda x: (x[5], -x[1])):
        P(f"  {cp[0]:>3}-{cp[1]:<3}  true {t:5d}  pred {pp:6d}  TP {tp:5d}   P={p:.3f} R={r:.3f}   boundR={br:.3f}")

    # ---------------- diagnosis: missed true pairs
    P("\n== missed true pairs (not in one OneID), by the direct evidence the two records share")
    bclass = Counter()
    ex = defaultdict(list)
    nmiss = 0
    for a, b, ev in true_pairs:
        if pred[a] == pred[b]:
            continue
        nmiss += 1
        sig = "+".join(sorted(ev)) or "(nothing shared)"
        ident = "identifying" if identifying(ev) else ("reachable via others" if bound[a] == bound[b] else "unreachable")
        cpair = "-".join(sorted((recs[a]["ch"], recs[b]["ch"])))
        key = (ident, sig)
        bclass[key] += 1
        if len(ex[key]) < 5:
            ex[key].append((cpair, a, b))
    P(f"missed true pairs: {nmiss} of {tt}")
    by_ident = Counter()
    for (ident, _sig), n in bclass.items():
        by_ident[ident] += n
    P("  by kind: " + ", ".join(f"{k}: {v}" for k, v in by_ident.most_common()))
    for (ident, sig), n in bclass.most_common(14):
        P(f"\n  [{n}] {ident}: {sig}")
        for cpair, a, b in ex[(ident, sig)]:
            P(f"     {cpair}:  {show(recs[a])}  (placed_by {placed.get(a)})")
            P(f"     {' ' * len(cpair)}   {show(recs[b])}  (placed_by {placed.get(b)})")

    # ---------------- same exact mobile but not linked: what the names look like
    P("\n== missed true pairs sharing an exact mobile: by name situation and channel pair")
    sit = Counter()
    cps = Counter()
    for a, b, ev in true_pairs:
        if pred[a] == pred[b] or "mobile" not in ev:
            continue
        na, nb = recs[a]["name"], recs[b]["name"]
        def kind(n):
            if not n:
                return "no-name"
            if "sal" in n:
                return "salutation"
            return "pinyin" if n.get("pinyin") else "hanzi"
        ka, kb = sorted((kind(na), kind(nb)))
        comp = names_compatible(na, nb) if na and nb else None
        sit[f"{ka}/{kb}" + (f" ({comp or 'incompatible'})" if na and nb else "")] += 1
        cps["-".join(sorted((recs[a]["ch"], recs[b]["ch"])))] += 1
    P("  names: " + "; ".join(f"{k}: {v}" for k, v in sit.most_common()))
    P("  channel pairs: " + "; ".join(f"{k}: {v}" for k, v in cps.most_common(10)))

    # ---------------- Tmall gift orders: linked to the receiver's own records?
    P("\n== Tmall orders for someone else (truth: the buyer): joined to the receiver's records?")
    gifts = Counter()
    gl = Counter()
    for k, r in recs.items():
        if r["ch"] != "tm" or not r["meta"].get("receiver_pid") or r["meta"]["receiver_pid"] == "OUT":
            continue
        rcv = r["meta"]["receiver_pid"]
        others = [x for x in bypid.get(rcv, [])]
        if not others:
            continue
        joined = any(pred[x] == pred[k] for x in others)
        note = r["raw"].get("买家留言", "") or "(no note)"
        pay = r["raw"].get("买家支付宝账号", "")
        payk = "pay=masked mobile" if "****" in pay else ("pay=email" if "@" in pay else "pay=blank")
        gifts[(note, payk)] += 1
        gl[(note, payk)] += joined
    for (note, payk), n in sorted(gifts.items(), key=lambda x: -x[1]):
        P(f"  {note[:16]:<18} {payk:<18} orders {n:4d}  joined receiver {gl[(note, payk)]:4d} ({gl[(note, payk)] / n:.0%})")

    # ---------------- Tmall self orders paid from the buyer's other number
    P("\n== Tmall orders to the buyer him/herself, receiver mobile = a mobile on the buyer's non-Tmall records: joined?")
    selfc = Counter()
    selfj = Counter()
    for k, r in recs.items():
        if r["ch"] != "tm" or not r["meta"].get("note", "").startswith("self"):
            continue
        others = [x for x in bypid[r["pid"]] if recs[x]["ch"] != "tm" and recs[x]["mob"] & r["mob"]]
        if not others:
            continue  # only orders whose receiver mobile also sits on one of the buyer's other records
        pk = r["meta"]["phone_kind"].split("+")[0]
        cls = ("paid from 2nd number" if "paysecond" in r["meta"]["note"] else "paid normally") + f", receiver phone={pk}"
        selfc[cls] += 1
        selfj[cls] += any(pred[x] == pred[k] for x in others)
    for cls, n in sorted(selfc.items(), key=lambda x: -x[1]):
        P(f"  {cls:<48} orders {n:4d}  joined {selfj[cls]:4d} ({selfj[cls] / n:.0%})")

    # ---------------- diagnosis: false pairs
    P("\n== false pairs (one OneID, different persons), by shared evidence")
    groups = defaultdict(list)
    for k, c in pred.items():
        groups[c].append(k)
    fclass = Counter()
    fex = defaultdict(list)
    nfalse = 0
    why = Counter()
    for ks in groups.values():
        if len(ks) < 2:
            continue
        for a, b in itertools.combinations(ks, 2):
            ra, rb = recs[a], recs[b]
            if ra["pid"] == rb["pid"]:
                continue
            nfalse += 1
            ev = evidence(ra, rb)
            sig = "+".join(sorted(ev)) or "(nothing shared: transitive)"
            # generation reason
            ma, mb = ra["meta"], rb["meta"]
            reasons = []
            if (ma.get("receiver_pid") == rb["pid"]) or (mb.get("receiver_pid") == ra["pid"]):
                reasons.append("tmall gift receiver")
            if "family" in (ma.get("phone_kind", "") + mb.get("phone_kind", "")):
                reasons.append("shared family phone")
            if ma.get("phone_kind") in ("placeholder", "storephone") or mb.get("phone_kind") in ("placeholder", "storephone"):
                reasons.append("store/placeholder phone")
            if "old" in ma.get("phone_kind", "") or "old" in mb.get("phone_kind", ""):
                reasons.append("old (possibly recycled) number")
            if not reasons and ra["name"] and rb["name"] and names_compatible(ra["name"], rb["name"]) == "name":
                reasons.append("namesake")
            rs = ",".join(reasons) or "-"
            why[rs] += 1
            key = sig
            fclass[key] += 1
            if len(fex[key]) < 5:
                fex[key].append(("-".join(sorted((ra["ch"], rb["ch"]))), a, b, rs))
    P(f"false pairs: {nfalse}")
    P("  by generation cause: " + "; ".join(f"{k}: {v}" for k, v in why.most_common(10)))
    for sig, n in fclass.most_common(12):
        P(f"\n  [{n}] {sig}")
        for cpair, a, b, rs in fex[sig]:
            P(f"     {cpair} ({rs}):  {show(recs[a])}  (placed_by {placed.get(a)})")
            P(f"     {' ' * len(cpair)}    {show(recs[b])}  (placed_by {placed.get(b)})")
    # biggest predicted clusters
    big = sorted(groups.values(), key=len, reverse=True)[:3]
    P("\n== largest OneIDs: " + "; ".join(f"{len(g)} records / {len(set(recs[k]['pid'] for k in g))} persons" for g in big))
    text = "\n".join(out)
    print(text)
    with open(os.path.join(rundir, "score.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
