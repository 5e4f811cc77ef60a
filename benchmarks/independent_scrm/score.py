#!/usr/bin/env python3
"""Independent scorer: pair-closure P/R/F1 of a Steward crosswalk against the generator's truth.

python score.py --data DATA_DIR --crosswalk crosswalk.csv --out REPORT_PREFIX

All evidence is re-derived from the RAW cells of the exported files with this script's own
normalisers (never from Steward's standardised values). Generator flags (truth_meta.csv) are used
only to label classes in the diagnosis.
"""
import argparse
import csv
import json
import os
import re
import unicodedata
from collections import Counter, defaultdict
from itertools import combinations

import pandas as pd
from pypinyin import lazy_pinyin

try:
    import opencc
    T2S = opencc.OpenCC("t2s").convert
except Exception:  # pragma: no cover
    T2S = lambda s: s  # noqa: E731

SURNAME_PY = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha",
              "盖": "ge", "乐": "yue", "覃": "qin", "万": "wan", "沈": "shen", "石": "shi", "贾": "jia",
              "长": "chang", "重": "chong", "尉": "yu", "缪": "miao", "翟": "zhai", "柏": "bai"}
PH_PLACE = {"13800000000", "13800138000", "18888888888", "11111111111", "00000000000"}
NAME_PLACE = {"test", "测试", "无", "未填写", "客户", "顾客", "123", "", "微信用户"}
SAL_RE = re.compile(r"^(?:(.)(?:先生|女士|小姐|总|姐|哥|老师)|老(.))$")
HZ_RE = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
MOB_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")

# file -> how to read and which raw columns carry which evidence
SPEC = {
    "wecom_contacts.csv": dict(read=dict(encoding="utf-8-sig"), phones=["备注手机"], phone_text=["描述", "备注名"],
                               name_remark="备注名", nick="客户名称", ids={"unionid": "unionid", "extuid": "外部联系人ID"},
                               email_text=["描述"], show=["客户名称", "备注名", "外部联系人ID", "unionid", "备注手机", "描述", "添加人"]),
    "youzan_members.xlsx": dict(read=dict(skiprows=1), phones=["手机号"], name="真实姓名", nick="会员昵称",
                                ids={"yzid": "客户编号"}, dob="生日", city="所在地",
                                show=["客户编号", "会员昵称", "真实姓名", "手机号", "生日", "所在地"]),
    "jd_orders_gbk.csv": dict(read=dict(encoding="gb18030"), phones=["联系电话"], name="客户姓名", ids={"jdpin": "下单账号"},
                              city="客户地址", show=["下单账号", "客户姓名", "联系电话", "客户地址", "订单备注"]),
    "leads_ks_xhs.csv": dict(read=dict(encoding="utf-8"), phones=["电话"], name="姓名", nick="昵称", ids={"uid": "用户ID"},
                             city="城市", show=["来源平台", "用户ID", "昵称", "姓名", "电话", "城市", "年龄"]),
    "pos_members.csv": dict(read=dict(encoding="utf-8"), phones=["手机"], name="姓名", ids={"card": "会员卡号", "idcard": "证件号码"},
                            dob="生日", show=["会员卡号", "姓名", "手机", "生日", "证件号码", "开卡门店"]),
    "callcenter_tickets.csv": dict(read=dict(encoding="utf-8-sig", skiprows=1), phones=["来电号码"], name="客户称呼",
                                   ids={"idcard": "身份证号", "email": "邮箱"},
                                   show=["来电号码", "客户称呼", "身份证号", "邮箱"]),
    "overseas_store.csv": dict(read=dict(encoding="utf-8"), phones=["Mobile No."], name="Member Name",
                               ids={"unionid": "UnionID", "email": "Email", "osid": "Member ID"}, dob="DOB", city="City",
                               show=["Member Name", "Mobile No.", "DOB", "City", "Email", "UnionID"]),
}
SHORT = {"wecom_contacts.csv": "wecom", "youzan_members.xlsx": "youzan", "jd_orders_gbk.csv": "jd",
         "leads_ks_xhs.csv": "leads", "pos_members.csv": "pos", "callcenter_tickets.csv": "call",
         "overseas_store.csv": "overseas"}
STRONG = ["mobile", "idcard", "unionid", "extuid", "jdpin", "uid", "card", "yzid", "osid", "email"]
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHK = "10X98765432"


def nfkc(s):
    return unicodedata.normalize("NFKC", str(s or "")).strip()


def norm_phone(raw):
    """-> ('mobile', m) | ('masked', (p3, l4)) | ('landline', digits) | ('hk', digits) | None"""
    s = nfkc(raw)
    if not s:
        return None
    m = re.search(r"(1[3-9]\d)\*{3,4}(\d{4})", s)
    if m:
        return ("masked", (m.group(1), m.group(2)))
    d = re.sub(r"\D", "", s)
    if s.startswith("+852") or (d.startswith("852") and len(d) == 11):
        return ("hk", d)
    if d.startswith("0086"):
        d = d[4:]
    elif len(d) == 13 and d.startswith("86"):
        d = d[2:]
    elif len(d) == 12 and d.startswith("01"):
        d = d[1:]
    if re.fullmatch(r"1[3-9]\d{9}", d):
        if d in PH_PLACE or len(set(d[3:])) <= 2:
            return ("placeholder", d)
        return ("mobile", d)
    if re.fullmatch(r"0\d{9,11}", d):
        return ("landline", d)
    if d:
        return ("junk", d)
    return ("placeholder", s)


def norm_id(raw):
    s = nfkc(raw).upper()
    if re.fullmatch(r"\d{15}", s):
        body = s[:6] + "19" + s[6:]
        return body + CHK[sum(int(c) * w for c, w in zip(body, W)) % 11]
    if re.fullmatch(r"\d{17}[\dX]", s):
        return s
    return None


def id_valid(s):
    return s[-1] == CHK[sum(int(c) * w for c, w in zip(s[:17], W)) % 11]


def py_keys_hz(name):
    sur = SURNAME_PY.get(name[0]) or lazy_pinyin(name[0])[0]
    giv = "".join(lazy_pinyin(name[1:]))
    return {sur + giv, giv + sur}


def parse_name(raw, remark=False):
    """-> dict(kind=full|salut|pinyin|nick|none, hz, keys, surname)"""
    s = T2S(nfkc(raw))
    if remark:
        s = MOB_IN_TEXT.sub("", s)
        s = re.sub(r"[\d\s]+$", "", s)
        s = re.split(r"[-—（(]", s)[0].strip()
    if s.lower() in NAME_PLACE:
        return dict(kind="none")
    m = SAL_RE.match(s)
    if m:
        sur = m.group(1) or m.group(2)
        return dict(kind="salut", surname=sur, spy=SURNAME_PY.get(sur) or lazy_pinyin(sur)[0])
    if HZ_RE.match(s):
        return dict(kind="full", hz=s, keys=py_keys_hz(s), surname=s[0], spy=SURNAME_PY.get(s[0]) or lazy_pinyin(s[0])[0])
    if re.fullmatch(r"[A-Za-z][A-Za-z ,.\-]*", s) and (" " in s or "," in s or "-" in s or len(s) > 6):
        toks = re.findall(r"[a-z]+", s.lower())
        if len(toks) == 1:
            keys = {toks[0]}
        else:
            keys = {"".join(toks), "".join(toks[-1:] + toks[:-1]), "".join(toks[1:] + toks[:1])}
        return dict(kind="pinyin", keys=keys, toks=set(toks))
    return dict(kind="nick", nick=s)


def parse_dob(raw):
    s = nfkc(raw)
    if not s:
        return None
    m = re.fullmatch(r"(\d{4})[-/年.]?(\d{1,2})[-/月.]?(\d{1,2})日?", s)
    if m and (len(s) > 8 or s.isdigit()):
        return (int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", s)  # DD/MM/YYYY
    if m:
        return (int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(\d{1,2})[-月](\d{1,2})日?", s)
    if m:
        return (int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"(\d{1,2}) ([A-Za-z]{3}) (\d{4})", s)
    if m:
        mon = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].index(m.group(2).lower()) + 1
        return (mon, int(m.group(1)))
    return None


def load(data):
    meta = pd.read_csv(os.path.join(data, "truth_meta.csv"), dtype=str, keep_default_na=False)
    recs = {}
    for f, sp in SPEC.items():
        path = os.path.join(data, f)
        if f.endswith(".xlsx"):
            df = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl", **sp["read"])
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, **sp["read"])
        for i, row in enumerate(df.to_dict("records"), start=1):
            recs[(f, i)] = row
    out = {}
    for t in meta.itertuples(index=False):
        key = (t.file, int(t.row_number))
        raw = recs[key]
        out[key] = dict(file=t.file, row=int(t.row_number), pid=t.person_id, flags=set(filter(None, t.flags.split("|"))),
                        raw=raw, **features(t.file, raw))
    return out


def features(f, raw):
    sp = SPEC[f]
    ev = defaultdict(set)
    landline = set()
    masked = set()
    for c in sp.get("phones", []):
        for part in re.split(r"[,，;；、/]", raw.get(c, "")):
            n = norm_phone(part)
            if not n:
                continue
            if n[0] == "mobile":
                ev["mobile"].add(n[1])
            elif n[0] == "masked":
                masked.add(n[1])
            elif n[0] == "landline":
                landline.add(n[1])
            elif n[0] == "hk":
                ev["mobile"].add(n[1])
    col_mob = set(ev.get("mobile", ()))
    for c in sp.get("phone_text", []):
        for m in MOB_IN_TEXT.finditer(nfkc(raw.get(c, ""))):
            d = "".join(m.groups())
            if d not in PH_PLACE:
                ev["mobile"].add(d)
    txt_mob = set(ev.get("mobile", ())) - col_mob
    for kind, c in sp.get("ids", {}).items():
        v = nfkc(raw.get(c, ""))
        if not v:
            continue
        if kind == "idcard":
            v = norm_id(v)
            if v:
                ev["idcard"].add(v)
        elif kind == "email":
            ev["email"].add(v.lower())
        elif kind == "uid":
            ev["uid"].add(raw.get("来源平台", "") + ":" + v)
        else:
            ev[kind].add(v)
    for c in sp.get("email_text", []):
        for m in re.finditer(r"[\w.+-]+@[\w-]+\.[\w.]+", raw.get(c, "")):
            ev["email"].add(m.group(0).lower())
    if sp.get("name_remark"):
        nm = parse_name(raw.get(sp["name_remark"], ""), remark=True)
    else:
        nm = parse_name(raw.get(sp["name"], ""))
    nick = nfkc(raw.get(sp["nick"], "")) if sp.get("nick") else ""
    if nm["kind"] == "nick" and not nick:
        nick = nm["nick"]
    dob = parse_dob(raw.get(sp["dob"], "")) if sp.get("dob") else None
    if f == "callcenter_tickets.csv":
        for v in ev.get("idcard", ()):
            dob = (int(v[10:12]), int(v[12:14]))
    # mobile -> masked form too, so full vs masked can be compared
    mk = set(masked) | {(m[:3], m[7:]) for m in ev.get("mobile", ()) if len(m) == 11}
    return dict(ev={k: v for k, v in ev.items()}, txt_mob=txt_mob, masked=masked, mk=mk, landline=landline, name=nm, nick=nick, dob=dob)


# ---------------------------------------------------------------- union-find / pairs
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


def closure_pairs(keys, groups):
    """The pairs of the transitive closure of `groups` (each an iterable of keys that belong together)."""
    uf = UF(keys)
    for g in groups:
        g = list(g)
        for x in g[1:]:
            uf.union(g[0], x)
    clusters = defaultdict(list)
    for k in keys:
        clusters[uf.find(k)].append(k)
    return pairs_of(clusters)


def pairs_of(clusters):
    s = set()
    for members in clusters.values():
        if len(members) > 1:
            for a, b in combinations(sorted(members), 2):
                s.add((a, b))
    return s


def prf(pred, true):
    tp = len(pred & true)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(true) if true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return dict(precision=round(p, 4), recall=round(r, 4), f1=round(f, 4), tp=tp, pred_pairs=len(pred), true_pairs=len(true))


def name_rel(a, b):
    na, nb = a["name"], b["name"]
    ka, kb = na["kind"], nb["kind"]
    if ka == "full" and kb == "full":
        if na["hz"] == nb["hz"]:
            return "name="
        if na["keys"] & nb["keys"]:
            return "name~homophone"
        return "name≠"
    if {ka, kb} == {"full", "pinyin"} or (ka == kb == "pinyin"):
        if na.get("keys", set()) & nb.get("keys", set()):
            return "name~pinyin"
        return "name≠"
    if "salut" in (ka, kb) and ka in ("salut", "full") and kb in ("salut", "full"):
        return "surname=" if na["surname"] == nb["surname"] else "name≠"
    if "salut" in (ka, kb) and "pinyin" in (ka, kb):
        s = na if ka == "salut" else nb
        p = nb if ka == "salut" else na
        return "surname=" if s["spy"] in p["toks"] else "name≠"
    return "name?"


def one_edit(a, b):
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def shared(a, b):
    s = []
    for k in STRONG:
        if a["ev"].get(k, set()) & b["ev"].get(k, set()):
            s.append(k)
    if "mobile" not in s:
        ma, mb = a["ev"].get("mobile", set()), b["ev"].get("mobile", set())
        if any(one_edit(x, y) for x in ma for y in mb):
            s.append("mobile~1")
        if (a["masked"] or b["masked"]) and a["mk"] & b["mk"]:
            s.append("masked")
    if a["landline"] & b["landline"]:
        s.append("landline")
    if a["nick"] and a["nick"] == b["nick"]:
        s.append("nick")
    if a["dob"] and a["dob"] == b["dob"]:
        s.append("dob")
    return s


def strong_edges(recs, same_person_only):
    """evidence edges: any STRONG key shared, or masked mobile + same (pinyin) name."""
    idx = defaultdict(list)
    for k, r in recs.items():
        for kind in STRONG:
            for v in r["ev"].get(kind, ()):
                idx[(kind, v)].append(k)
        nk = r["name"].get("keys") if r["name"]["kind"] in ("full", "pinyin") else None
        if nk:
            for mk in r["mk"]:
                for key in nk:
                    idx[("mk+name", mk, key)].append(k)
    return idx


def classify_missed(a, b, sh, rel):
    gift = "gift" in a["flags"] or "gift" in b["flags"]
    strong = [x for x in sh if x in STRONG]
    if gift and not strong:
        return "gift order (receiver's name/phone) vs buyer's other records, no shared id"
    if "mobile" in sh:
        common = a["ev"]["mobile"] & b["ev"]["mobile"]
        if all(m in a["txt_mob"] or m in b["txt_mob"] for m in common):
            return f"same mobile, but on one side only inside wecom 描述/备注名 text, {rel}"
        return f"same full mobile, {rel}"
    if strong:
        return f"same {'+'.join(strong)} (no shared mobile), {rel}"
    if "masked" in sh:
        return f"masked mobile matches, {rel}"
    if "mobile~1" in sh:
        return f"mobiles one digit apart (typo), {rel}"
    hh = {"household_phone", "household_landline"} & (a["flags"] | b["flags"])
    if hh:
        return f"one side uses a household phone, {rel}" + (" +landline" if "landline" in sh else "")
    ma, mb = a["ev"].get("mobile"), b["ev"].get("mobile")
    if ma and mb:
        return f"different mobiles (old/new or other), {rel}" + (" +dob" if "dob" in sh else "")
    if "nick" in sh:
        return f"only nickname shared, {rel}"
    return f"no comparable phone (one side none/placeholder/masked/landline), {rel}" + (" +dob" if "dob" in sh else "")


def classify_false(a, b, sh, rel):
    fl = a["flags"] | b["flags"]
    if "mobile" in sh:
        if "gift" in fl:
            return f"same mobile via gift order (receiver's phone), {rel}"
        if fl & {"household_phone"}:
            return f"same mobile: household phone shared by family, {rel}"
        return f"same mobile, other, {rel}"
    if "masked" in sh:
        return f"masked mobile prefix/suffix match, {rel}" + (" (gift)" if "gift" in fl else "")
    strong = [x for x in sh if x in STRONG]
    if strong:
        return f"same {'+'.join(strong)}, {rel}"
    if "landline" in sh:
        return f"same household landline, {rel}"
    if "mobile~1" in sh:
        return f"mobiles one digit apart, {rel}"
    return f"no shared identifier, {rel}" + (" +nick" if "nick" in sh else "") + (" +dob" if "dob" in sh else "")


def show(r):
    cells = [f"{c}={r['raw'].get(c, '')}" for c in SPEC[r["file"]]["show"] if str(r["raw"].get(c, "")).strip()]
    fl = ",".join(sorted(r["flags"]))
    return f"[{SHORT[r['file']]}#{r['row']} {r['pid']}{' {' + fl + '}' if fl else ''}] " + "; ".join(cells)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--crosswalk", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--examples", type=int, default=4)
    ap.add_argument("--queue", help="output of `review list --limit N` (pairs waiting for a steward)")
    a = ap.parse_args()
    recs = load(a.data)
    junk = {k for k, r in recs.items() if r["pid"].startswith("JUNK")}
    src2file = {os.path.splitext(f)[0]: f for f in SPEC}
    cw = {}
    placed = {}
    with open(a.crosswalk, encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            f = src2file.get(row["source"])
            key = (f, int(row["row_number"]))
            cw[key] = row["oneid"]
            placed[key] = row.get("placed_by", "")
    missing = [k for k in recs if k not in cw and k not in junk]
    extra = [k for k in cw if k not in recs]
    junk_in = [k for k in junk if k in cw]
    keys = [k for k in recs if k not in junk]
    recs = {k: recs[k] for k in keys}
    # clusters
    pred_cl = defaultdict(list)
    for k in keys:
        pred_cl[cw.get(k, ("missing",) + k)].append(k)
    true_cl = defaultdict(list)
    for k in keys:
        true_cl[recs[k]["pid"]].append(k)
    P = pairs_of(pred_cl)
    T = pairs_of(true_cl)
    res = dict(records=len(keys), people=len(true_cl), missing_from_crosswalk=len(missing), extra_in_crosswalk=len(extra),
               junk_rows_in_crosswalk=len(junk_in), predicted_clusters=len(pred_cl),
               max_pred_cluster=max(len(v) for v in pred_cl.values()))
    res["steward"] = prf(P, T)
    # baseline: exact normalized mobile only (all phone-bearing cells, incl. phones in 描述/备注名)
    idx = defaultdict(list)
    for k in keys:
        for m in recs[k]["ev"].get("mobile", ()):
            idx[m].append(k)
    res["baseline_exact_mobile"] = prf(closure_pairs(keys, idx.values()), T)
    # upper bound: evidence edges within each true person, transitive closure
    within_person = []
    for ks in strong_edges(recs, True).values():
        byp = defaultdict(list)
        for x in ks:
            byp[recs[x]["pid"]].append(x)
        within_person += byp.values()
    U = closure_pairs(keys, within_person)
    res["upper_bound"] = prf(U & T, T)
    res["steward_recall_within_bound"] = round(len(P & U) / len(U), 4) if U else None
    # per channel pair
    cp = defaultdict(lambda: [0, 0, 0])
    for x, y in T:
        cp[tuple(sorted((SHORT[x[0]], SHORT[y[0]])))][0] += 1
    for x, y in P:
        c = tuple(sorted((SHORT[x[0]], SHORT[y[0]])))
        cp[c][1] += 1
        if (x, y) in T:
            cp[c][2] += 1
    for x, y in U:
        cp[tuple(sorted((SHORT[x[0]], SHORT[y[0]])))].append(1)
    res["channel_pairs"] = {f"{c[0]}-{c[1]}": dict(true=v[0], pred=v[1], tp=v[2],
                                                    P=round(v[2] / v[1], 3) if v[1] else None,
                                                    R=round(v[2] / v[0], 3) if v[0] else None,
                                                    bound_R=round(len(v[3:]) / v[0], 3) if v[0] else None)
                            for c, v in sorted(cp.items())}
    # diagnosis
    missed = T - P
    false = P - T
    mcls = defaultdict(list)
    for x, y in sorted(missed):
        ra, rb = recs[x], recs[y]
        sh = shared(ra, rb)
        mcls[classify_missed(ra, rb, sh, name_rel(ra, rb))].append((x, y, sh))
    fcls = defaultdict(list)
    for x, y in sorted(false):
        ra, rb = recs[x], recs[y]
        sh = shared(ra, rb)
        fcls[classify_false(ra, rb, sh, name_rel(ra, rb))].append((x, y, sh))
    res["missed_classes"] = {k: len(v) for k, v in sorted(mcls.items(), key=lambda kv: -len(kv[1]))}
    res["missed_class_channels"] = {k: dict(Counter("-".join(sorted((SHORT[x[0]], SHORT[y[0]]))) for x, y, _ in v).most_common(4))
                                    for k, v in sorted(mcls.items(), key=lambda kv: -len(kv[1]))[:15]}
    res["missed_class_persons"] = {k: len({recs[x]["pid"] for x, _, _ in v}) for k, v in mcls.items()}
    res["false_classes"] = {k: len(v) for k, v in sorted(fcls.items(), key=lambda kv: -len(kv[1]))}
    # by generator flags on missed pairs (multi-label)
    flagc = Counter()
    for x, y in missed:
        for fl in recs[x]["flags"] | recs[y]["flags"]:
            flagc[fl] += 1
    res["missed_pairs_by_generator_flag"] = dict(flagc.most_common())
    # missed pairs inside the bound, by class
    inb = Counter()
    for k, v in mcls.items():
        inb[k] = sum(1 for x, y, _ in v if (x, y) in U)
    res["missed_inside_bound_by_class"] = {k: c for k, c in inb.most_common() if c}
    # largest predicted clusters
    big = sorted(pred_cl.items(), key=lambda kv: -len(kv[1]))[:5]
    res["largest_clusters"] = [dict(oneid=o, size=len(m), persons=len({recs[k]['pid'] for k in m})) for o, m in big]
    res["placed_by_of_false_pairs"] = dict(Counter(f"{placed.get(x, '?')} | {placed.get(y, '?')}" for x, y in false).most_common(12))
    if a.queue and os.path.exists(a.queue):
        q = []
        for line in open(a.queue, encoding="utf-8").read().splitlines()[1:]:
            parts = line.split()
            if len(parts) < 6:
                continue
            (_bl, rl), (_br, rr) = parts[0].split(":"), parts[1].split(":")
            kl, kr = (src2file[parts[4]], int(rl)), (src2file[parts[5]], int(rr))
            if kl in recs and kr in recs:
                q.append(tuple(sorted((kl, kr))))
        qs = set(q)
        ufq = UF(keys)
        for ks in pred_cl.values():
            for x in ks[1:]:
                ufq.union(ks[0], x)
        for x, y in qs:
            ufq.union(x, y)
        qcl = defaultdict(list)
        for k in keys:
            qcl[ufq.find(k)].append(k)
        res["review_queue"] = dict(pairs=len(qs), true_pairs_in_queue=len(qs & T),
                                   queue_precision=round(len(qs & T) / len(qs), 4) if qs else None,
                                   missed_pairs_in_queue=len(qs & missed))
        res["if_whole_queue_approved"] = prf(pairs_of(qcl), T)
        res["if_true_queue_pairs_approved_only"] = None
        uft = UF(keys)
        for ks in pred_cl.values():
            for x in ks[1:]:
                uft.union(ks[0], x)
        for x, y in qs & T:
            uft.union(x, y)
        tcl = defaultdict(list)
        for k in keys:
            tcl[uft.find(k)].append(k)
        res["if_true_queue_pairs_approved_only"] = prf(pairs_of(tcl), T)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out + ".json", "w") as fh:
        json.dump(res, fh, ensure_ascii=False, indent=1)
    # examples file
    import random
    rnd = random.Random(0)
    with open(a.out + "_examples.txt", "w") as fh:
        for title, cl in (("MISSED", mcls), ("FALSE", fcls)):
            for k, v in sorted(cl.items(), key=lambda kv: -len(kv[1])):
                fh.write(f"\n### {title}: {k}  ({len(v)} pairs, {len({recs[x]['pid'] for x, _, _ in v} | {recs[y]['pid'] for _, y, _ in v})} persons)\n")
                for x, y, sh in rnd.sample(v, min(a.examples, len(v))):
                    fh.write(f"  shared={sh} placed_by=({placed.get(x, '-')}, {placed.get(y, '-')})\n    A {show(recs[x])}\n    B {show(recs[y])}\n")
    # console summary
    print(json.dumps({k: res[k] for k in ("records", "people", "missing_from_crosswalk", "extra_in_crosswalk",
                                          "junk_rows_in_crosswalk", "predicted_clusters", "max_pred_cluster",
                                          "steward", "baseline_exact_mobile", "upper_bound", "steward_recall_within_bound",
                                          "review_queue", "if_whole_queue_approved", "if_true_queue_pairs_approved_only") if k in res},
                     ensure_ascii=False, indent=1))
    print("missed classes (top 15): pairs persons  class  [top channel pairs]")
    for k, v in list(res["missed_classes"].items())[:15]:
        print(f"  {v:6d} {res['missed_class_persons'][k]:5d}  {k}  {res['missed_class_channels'].get(k)}")
    print("false classes (top 10):")
    for k, v in list(res["false_classes"].items())[:10]:
        print(f"  {v:6d}  {k}")
    print("channel pairs:")
    for k, v in res["channel_pairs"].items():
        print(f"  {k:18s} true={v['true']:5d} pred={v['pred']:5d} P={v['P']} R={v['R']} boundR={v['bound_R']}")


if __name__ == "__main__":
    main()
