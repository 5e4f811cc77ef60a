"""OneID on independently generated Chinese multi-channel exports (tests/channelgen.py: mini-program, official
account, Douyin leads, Tmall orders in GBK, a POS .xlsx with a title row, CRM, service tickets), run black-box
the way a steward would: a fresh store, then the product's own CLI (called in-process) `init --no-demo`,
`ingest FILE --channel C` for each file with the automatic mapping, `resolve`, optionally `--decisions N`
pairs taken in the product's own `review list` order and answered from the truth, `resolve` again, and
`export crosswalk`. The crosswalk's (source, row_number) is mapped back to the truth.

It prints pair-closure precision, recall and F1 overall, recall and false pairs per channel pair, two
baselines computed here from the raw files (exact normalized mobile; the union of exact identifiers: mobile,
resident ID, unionid, openid within its appid), plain Splink 5 with the product's comparisons and training
on its standardized records (no rules, guards or review) at the threshold with the best F1, two oracle
upper bounds (the truth-restricted closure of exact identifiers, and of any shared evidence at all), the
timings, and a diagnosis of the missed true pairs and of the false pairs by the evidence the two records
share.

    python benchmarks/channels.py                          # 20,000 people, seed 7
    python benchmarks/channels.py --people 3000 --decisions 300 --json /tmp/ch.json
    python benchmarks/channels.py --data /tmp/ch20k        # generate once into the folder, reuse afterwards
    python benchmarks/channels.py --product /tmp/head      # drive another checkout of the product (e.g. `git archive HEAD`)
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _paths(product: Path | None) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(product or ROOT))


# ---------------------------------------------------------------------------------------------
# driving the product
# ---------------------------------------------------------------------------------------------

class StageFailed(Exception):
    pass


class Product:
    def __init__(self, db: Path, timings: dict[str, float]):
        from governance.cli import main

        self.main, self.db, self.timings = main, db, timings

    def __call__(self, stage: str, *args: str, fail: bool = True) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = self.main(["--db", str(self.db), *args])
        except Exception as exc:   # a crash, not an `error:` line: keep the exact message
            rc, tb = 99, traceback.format_exc()
            err.write(f"{type(exc).__name__}: {exc}\n{tb}")
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - started
        if rc != 0 and fail:
            lines = (err.getvalue() or out.getvalue()).strip().splitlines()
            raise StageFailed(f"{stage} exited {rc}: " + (lines[-1] if lines else "no output"))
        return rc, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------------------------
# reading the raw files (for baselines and diagnosis; the product never sees this)
# ---------------------------------------------------------------------------------------------

MOBILE = re.compile(r"^1[3-9]\d{9}$")
MASKED = re.compile(r"^(1[3-9]\d)\*{4}(\d{4})$")
TITLES = ("先生", "女士", "小姐", "老师", "总", "姐", "哥")
NO_NAME = {"", "无", "未知", "顾客", "客户", "匿名", "无名", "-", "/", "NULL", "N/A"}
GENERIC_NICKS = {"", "微信用户"}


def norm_mobile(value: str) -> tuple[str | None, str | None]:
    """(full mobile, masked key first3+last4) of a raw phone value."""
    v = value.strip().lstrip("'\t")
    m = MASKED.match(v.replace(" ", ""))
    if m:
        return None, m.group(1) + m.group(2)
    digits = re.sub(r"\D", "", v.split(".")[0] if re.fullmatch(r"\d+\.0", v) else v)
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix):]
    if MOBILE.match(digits):
        return digits, digits[:3] + digits[7:]
    return None, None


def norm_birth(value: str) -> str | None:
    """YYYY-MM-DD of a full birth date (not a month-day-only birthday, not the 1900-01-01 placeholder)."""
    m = re.match(r"^\s*(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?(\s|$)", value)
    if not m or m.group(1) == "1900":
        return None
    y, mo, d = map(int, m.groups()[:3])
    return f"{y:04d}-{mo:02d}-{d:02d}" if 1 <= mo <= 12 and 1 <= d <= 31 else None


def norm_id(value: str) -> str | None:
    from channelgen import id_check_digit

    v = re.sub(r"\s", "", value).upper()
    return v if re.fullmatch(r"\d{17}[\dX]", v) and id_check_digit(v[:17]) == v[17] else None


class Names:
    def __init__(self):
        import channelgen as cg

        self.cg = cg
        self.simplified = {t: s for s, t in cg._TRADITIONAL.items() if s != t}
        self.cities = sorted({(d[3], d[6]) for d in cg._DISTRICTS}, key=lambda c: -len(c[0]))

    def simplify(self, text: str) -> str:
        return "".join(self.simplified.get(c, c) for c in text)

    def parse(self, raw: str) -> dict:
        """{'hz': hanzi name, 'py': pinyin key, 'surname': str, 'kind': full|salutation|surname|pinyin}"""
        v = self.simplify(re.sub(r"\s+", " ", raw.strip()))
        if v in NO_NAME:
            return {}
        if re.fullmatch(r"[A-Za-z][A-Za-z ]*", v):
            tokens = [t.lower() for t in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", v)] if " " not in v \
                else v.lower().split()
            return {"py": "|".join(sorted(tokens)), "kind": "pinyin",
                    "surname_py": {t for t in tokens}}
        compact = v.replace(" ", "")
        if not all("\u4e00" <= c <= "\u9fff" for c in compact):
            return {"kind": "other", "raw": compact}
        for t in TITLES:
            if compact.endswith(t) and 1 <= len(compact) - len(t) <= 2:
                stem = compact[: -len(t)]
                if stem in self.cg._SURNAME_SET:
                    return {"surname": stem, "kind": "salutation"}
                if len(compact) - len(t) >= 2:
                    compact = stem
                    break
        if compact in self.cg._SURNAME_SET:
            return {"surname": compact, "kind": "surname"}
        sur, giv = self.cg.pinyin_of(compact)
        return {"hz": compact, "py": "|".join(sorted([sur, giv])), "surname": self.cg.split_name(compact)[0],
                "kind": "full"}

    def city(self, text: str) -> str | None:
        for short, english in self.cities:
            if short in text or (english and english.lower() == text.strip().lower()):
                return short
        return None


def read_records(data: Path, mappings: dict | None = None) -> list[dict]:
    """One dict per raw row: file, row, channel and the evidence it carries. With the product's mappings
    ({file: {header: field or None}}), `hidden` is the roles whose column the product left unmapped and
    `visible_mobiles` the mobiles in columns it mapped."""
    import channelgen as cg
    import openpyxl

    names = Names()
    out = []
    for ch, (file_name, encoding, _) in cg.CHANNELS.items():
        path = data / file_name
        roles_of = cg.ROLES[ch]
        if encoding == "xlsx":
            rows = [[("" if c is None else str(c)) for c in r] for r in
                    openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True)]
            start = next(i for i, r in enumerate(rows) if sum(h in roles_of for h in r) >= 3)
            header, body = rows[start], rows[start + 1:]
        else:
            with path.open(encoding=encoding, newline="") as f:
                rows = list(csv.reader(f))
            header, body = rows[0], rows[1:]
        roles = [roles_of.get(h) for h in header]
        chosen = {str(h).strip(): f for h, f in ((mappings or {}).get(file_name) or {}).items()}
        hidden = {roles_of[h] for h in header if h in roles_of and mappings is not None and not chosen.get(h.strip())}
        appid_default = f"{ch}:"   # the OA file names no appid: its openids live in the file's own namespace
        for i, values in enumerate(body, start=1):
            v = {role: val for role, val in zip(roles, values) if role}
            rec = {"file": file_name, "row": i, "channel": ch, "mobiles": set(), "masked": set(), "ids": set(),
                   "hidden": hidden, "visible_mobiles": set()}
            for role in ("mobile", "receiver_mobile"):
                full, key = norm_mobile(v.get(role, ""))
                if full:
                    rec["mobiles"].add(full)
                    if role not in hidden:
                        rec["visible_mobiles"].add(full)
                if key:
                    rec["masked"].add(key)
            if ch == "tmall":   # the buyer's Alipay account, masked
                _full, key = norm_mobile(v.get("alipay", ""))
                if key:
                    rec["alipay_masked"] = key
            idn = norm_id(v.get("id_number", ""))
            if idn:
                rec["ids"].add(("id", idn))
            rec["births"] = {b for b in (norm_birth(v.get("birthday", "")), norm_birth(v.get("birth_date", "")),
                                         f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}" if idn else None) if b}
            if v.get("unionid", "").strip():
                rec["ids"].add(("unionid", v["unionid"].strip()))
            if v.get("openid", "").strip():
                rec["ids"].add(("openid", (v.get("appid") or appid_default) + "/" + v["openid"].strip()))
            email = v.get("email", "").strip().lower()
            rec["email"] = email if "@" in email else None
            rec["account"] = (("douyin", v["douyin_uid"]) if v.get("douyin_uid") else
                              ("buyer", v["buyer_nick"]) if v.get("buyer_nick") else None)
            raw_name = v.get("name") or v.get("receiver_name") or v.get("salutation") or ""
            rec["name_raw"] = raw_name
            rec["name"] = names.parse(raw_name)
            nick = v.get("nickname", "").strip()
            rec["nick"] = nick if nick not in GENERIC_NICKS and not nick.startswith("用户") else None
            place = " ".join(v.get(k, "") for k in ("city", "region", "receiver_address", "address"))
            rec["city"] = names.city(place) if place.strip() else None
            rec["raw"] = {k: val for k, val in v.items() if val and k in (
                "mobile", "receiver_mobile", "name", "receiver_name", "salutation", "nickname", "city", "region",
                "receiver_address", "id_number", "unionid", "email", "buyer_nick", "douyin_uid", "birthday",
                "birth_date", "age_band", "alipay")}
            out.append(rec)
    return out


def exact_keys(rec: dict, mobile_only: bool) -> set:
    keys = {("mobile", m) for m in rec["mobiles"]}
    return keys if mobile_only else keys | rec["ids"]


def union_clusters(records: list[dict], keys_of) -> dict:
    parent = list(range(len(records)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict = {}
    for i, rec in enumerate(records):
        for k in keys_of(rec):
            j = first.setdefault(k, i)
            if j != i:
                parent[find(i)] = find(j)
    return {(r["file"], r["row"]): find(i) for i, r in enumerate(records)}


def evidence_keys(rec: dict) -> set:
    """Every key two records of one person could share (for the any-evidence oracle)."""
    keys = exact_keys(rec, False)
    for m in rec["mobiles"]:
        keys |= {("m1", i, m[:i] + m[i + 1:]) for i in range(3, 11)}   # one digit off
    keys |= {("mask", k) for k in rec["masked"]}
    if rec.get("alipay_masked"):
        keys.add(("mask", rec["alipay_masked"]))
    if rec["email"]:
        keys.add(("email", rec["email"]))
    if rec["account"]:
        keys.add(rec["account"])
    if rec["name"].get("py"):
        keys.add(("py", rec["name"]["py"]))
    if rec["name"].get("surname"):
        keys.add(("surname", rec["name"]["surname"]))
    if rec["nick"]:
        keys.add(("nick", rec["nick"]))
    return keys


def oracle_clusters(records: list[dict], truth_of: dict, keys_of) -> dict:
    """The closure of the links two records of the SAME person could make from the keys they share."""
    return union_clusters(records, lambda r: {(truth_of[(r["file"], r["row"])], k) for k in keys_of(r)})


# ---------------------------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------------------------

CH_ORDER = ["mini", "oa", "douyin", "tmall", "pos", "crm", "ticket"]


def score(cluster_of: dict, truth_of: dict) -> dict:
    from helpers import pair_closure

    p, r, f, predicted, true = pair_closure(cluster_of, truth_of)
    return {"precision": p, "recall": r, "f1": f, "predicted_pairs": predicted, "true_pairs": true,
            "clusters": len(set(cluster_of.values()))}


# ---------------------------------------------------------------------------------------------
# diagnosis: what two records share
# ---------------------------------------------------------------------------------------------

def hamming1(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                              and a[diff[1]] == b[diff[0]])


ROLE_OF_KIND = {"id": "id_number", "unionid": "unionid", "openid": "openid", "email": "email",
                "douyin": "douyin_uid", "buyer": "buyer_nick"}


def nickname_like(rec: dict) -> bool:
    """The name field holds a nickname (Douyin leads: 微笑, Amy)."""
    import channelgen as cg

    n = rec["name"]
    return n.get("kind") == "other" or (n.get("kind") == "full" and (
        (n["hz"][:1] not in cg._SURNAME_SET and n["hz"][:2] not in cg._SURNAME_SET) or n["hz"] == rec["nick"]))


def phone_group_relation(recs: list[dict]) -> str:
    """What the names on all records that give one phone look like (what a household guard would see)."""
    named = [r for r in recs if r["name"]]
    if not named:
        return "no record on that phone has a name"
    feats = set()
    fulls = {r["name"]["hz"] for r in named if r["name"].get("kind") == "full" and not nickname_like(r)}
    if any(nickname_like(r) for r in named):
        feats.add("a nickname in a name field")
    if any(r["name"].get("kind") in ("salutation", "surname") for r in named):
        feats.add("a salutation (王先生)")
    if any(r["name"].get("kind") == "pinyin" for r in named):
        feats.add("a pinyin name")
    if len(fulls) > 1:
        import channelgen as cg
        pys = {"|".join(sorted(cg.pinyin_of(n))) for n in fulls}
        feats.add("hanzi variants of one name (homophone/traditional)" if len(pys) == 1 else "differing full names (typo)")
    return " + ".join(sorted(feats)) if feats else "one consistent name"


def name_relation(a: dict, b: dict) -> str:
    """How the names of two records that share a phone relate."""
    na, nb = a["name"], b["name"]
    if not na and not nb:
        return "neither record has a name"
    if not na or not nb:
        return "one record has no name (e.g. a WeChat record)"
    if nickname_like(a) or nickname_like(b):
        return "a nickname typed in the name field"
    if na.get("hz") and na.get("hz") == nb.get("hz"):
        return "same name"
    if na.get("py") and na.get("py") == nb.get("py"):
        return "pinyin/traditional/homophone variant of the name"
    kinds = {na.get("kind"), nb.get("kind")}
    if kinds & {"salutation", "surname"}:
        return ("salutation/surname, surname agrees" if na.get("surname") == nb.get("surname")
                else "salutation/surname, surname differs (heard wrong)")
    if na.get("surname") and na.get("surname") == nb.get("surname"):
        return "same surname, given name differs (typo)"
    return "different names"


def shared(a: dict, b: dict, phone_people: dict, phone_group: dict | None = None) -> list[str]:
    """Evidence flags of two records. `:unmapped` marks a shared value the product could not see because
    it left that column unmapped."""
    flags = []
    same_m = a["mobiles"] & b["mobiles"]
    if same_m:
        same_visible = a["visible_mobiles"] & b["visible_mobiles"]
        m = next(iter(same_visible or same_m))
        flags.append("mobile:placeholder" if m in ("13800138000", "13888888888", "18888888888", "13000000000",
                                                   "13800000000")
                     else "mobile:shared-by-persons" if len(phone_people.get(m, ())) > 1
                     else "mobile:unmapped" if not same_visible else "mobile")
        if flags[-1] == "mobile":
            flags.append("rel:" + name_relation(a, b))
            if phone_group is not None:
                flags.append("group:" + phone_group.get(m, "?"))
    hidden = a["hidden"] | b["hidden"]
    ida, idb = a["ids"], b["ids"]
    for kind in ("id", "unionid", "openid"):
        if {v for k, v in ida if k == kind} & {v for k, v in idb if k == kind}:
            flags.append(kind + (":unmapped" if ROLE_OF_KIND[kind] in hidden else ""))
    if a["email"] and a["email"] == b["email"]:
        flags.append("email" + (":unmapped" if "email" in hidden else ""))
    if a["account"] and a["account"] == b["account"]:
        kind = a["account"][0]
        flags.append("account:" + kind + (":unmapped" if ROLE_OF_KIND[kind] in hidden else ""))
    if not same_m and any(hamming1(x, y) for x in a["mobiles"] for y in b["mobiles"]):
        flags.append("mobile-typo")
    ma = a["masked"] | ({a["alipay_masked"]} if a.get("alipay_masked") else set())
    mb = b["masked"] | ({b["alipay_masked"]} if b.get("alipay_masked") else set())
    if not same_m and ma & mb:
        flags.append("masked-mobile")
    na, nb = a["name"], b["name"]
    if na.get("hz") and na.get("hz") == nb.get("hz"):
        flags.append("name")
    elif na.get("py") and na.get("py") == nb.get("py"):
        flags.append("name~pinyin/homophone" if "pinyin" in (na["kind"], nb["kind"]) else "name~homophone")
    elif na.get("surname") and na.get("surname") == nb.get("surname"):
        flags.append("surname")
    if a["nick"] and a["nick"] == b["nick"]:
        flags.append("nickname")
    if a["births"] & b["births"]:
        flags.append("birth")
    if a["city"] and a["city"] == b["city"]:
        flags.append("city")
    return flags


STRONG = ("mobile", "id", "unionid", "openid", "email", "account:douyin", "account:buyer")


def evidence_class(flags: list[str]) -> str:
    f = set(flags)
    soft = [x for x in ("name", "name~pinyin/homophone", "name~homophone", "surname", "nickname", "birth", "city")
            if x in f]
    tail = ("+" + "+".join(soft)) if soft else ""
    for s in ("mobile", "mobile:shared-by-persons", "mobile:placeholder", "id", "unionid", "openid", "email",
              "account:douyin", "account:buyer", "mobile:unmapped", "id:unmapped", "unionid:unmapped",
              "openid:unmapped", "email:unmapped", "account:douyin:unmapped", "account:buyer:unmapped"):
        if s in f:
            rel = next((x[4:] for x in f if x.startswith("rel:")), None) if s == "mobile" else None
            group = next((x[6:] for x in f if x.startswith("group:")), None) if s == "mobile" else None
            return f"same {s}" + (f" [{group or rel}]" if rel else "") + tail
    if "mobile-typo" in f:
        return "mobile 1-digit typo" + tail
    if "masked-mobile" in f:
        return "masked mobile" + tail
    if soft:
        return "+".join(soft) + " only"
    return "nothing shared"


def coarse(cls: str) -> str:
    parts = cls.removesuffix(" only").split("+")
    head, soft = parts[0], set(parts[1:])
    if cls.endswith(" only"):
        head, soft = "", set(parts)
    has_name = bool(soft & {"name", "name~pinyin/homophone", "name~homophone"})
    who = "name" if has_name else "surname" if "surname" in soft else "no name"
    city = " + city" if "city" in soft else ""
    if head.startswith("same mobile:shared"):
        return "same phone, also used by another person (household phone)"
    if head.startswith("same mobile:placeholder"):
        return "same placeholder phone (13800138000 …)"
    if head.endswith(":unmapped"):
        return "same " + head[5:-9] + ", but in a column the product left unmapped"
    if head.startswith("same mobile ["):
        return "same mobile (mapped); names on that phone: " + head[len("same mobile ["):-1]
    if head.startswith("same "):
        return "same exact identifier (" + head[5:] + ")"
    if head == "mobile 1-digit typo":
        return "mobile one digit off + " + who
    if head == "masked mobile":
        return "masked mobile + " + who + city
    if cls == "nothing shared":
        return cls
    birth = " + birth date" if "birth" in soft else ""
    if has_name:
        return "name (exact/pinyin/homophone) without phone" + birth + city
    if "surname" in soft:
        return "surname/salutation only" + birth + city
    if birth and "nickname" not in soft:
        return "birth date" + city + " only"
    if "nickname" in soft:
        return "nickname only" + city
    return "city only"


COARSE_ORDER = ("same exact identifier", "same mobile (mapped)", "same phone, also used", "same placeholder", "same ",
                "mobile one digit off + name",
                "mobile one digit off + surname", "mobile one digit off", "masked mobile + name", "masked mobile + surname", "masked mobile + no name",
                "name (exact/pinyin/homophone) without phone + birth", "name (exact/pinyin/homophone) without phone + city",
                "name (exact/pinyin/homophone) without phone", "surname/salutation only + birth",
                "surname/salutation only + city", "surname/salutation only", "birth date", "nickname only", "city only",
                "nothing shared")


def strength(coarse_class: str) -> int:
    return next(i for i, prefix in enumerate(COARSE_ORDER) if coarse_class.startswith(prefix))


def pairs_of(groups: dict, limit: int):
    for members in groups.values():
        if 1 < len(members) <= limit:
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    yield a, b


def brief(rec: dict) -> str:
    raw = rec["raw"]
    parts = [f"{rec['channel']}#{rec['row']}"]
    for k in ("name", "receiver_name", "salutation", "nickname", "mobile", "receiver_mobile", "alipay", "buyer_nick",
              "douyin_uid", "unionid", "id_number", "email", "city", "region", "receiver_address", "birthday",
              "birth_date", "age_band"):
        if raw.get(k):
            val = raw[k]
            if k in ("unionid", "douyin_uid", "id_number"):
                val = val[:6] + "…" + val[-4:]
            if k == "receiver_address":
                val = val[:16] + "…"
            parts.append(f"{k}={val}")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

def fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.4f}"


def run(args) -> dict:
    import channelgen as cg

    from helpers import scratch_secrets

    timings: dict[str, float] = {}
    result: dict = {"people": args.people, "seed": args.seed, "profile": args.profile, "decisions": args.decisions,
                    "errors": []}
    product_root = Path(args.product) if args.product else ROOT
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    result["product"] = {"root": str(product_root), "head": head.stdout.strip()}
    scratch_secrets()
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="steward-channels-data-"))
    started = time.perf_counter()
    if not (data / "truth.csv").exists():
        cg.generate(args.people, args.seed, data, args.profile)
        (data / "profile.txt").write_text(args.profile, encoding="utf-8")
        timings["generate"] = time.perf_counter() - started
    made = (data / "profile.txt").read_text(encoding="utf-8").strip() if (data / "profile.txt").exists() else "harsh"
    if made != args.profile:
        raise SystemExit(f"{data} holds a {made} draw, not {args.profile}: give --profile {made} or another --data")
    with (data / "truth.csv").open(encoding="utf-8", newline="") as f:
        truth_of = {(r["file"], int(r["row_number"])): r["person_id"] for r in csv.DictReader(f)}
    channel_of = {k: cg.CHANNEL_OF_FILE[k[0]] for k in truth_of}
    result["records"], result["persons"] = len(truth_of), len(set(truth_of.values()))
    result["rows_per_channel"] = dict(Counter(channel_of.values()))

    work = Path(tempfile.mkdtemp(prefix="steward-channels-"))
    db = work / "steward.duckdb"
    product = Product(db, timings)
    file_of_source: dict[str, str] = {}
    file_of_batch: dict[int, str] = {}
    mappings: dict[str, dict] = {}
    product("init", "init", "--no-demo")
    for ch, (file_name, _enc, channel) in cg.CHANNELS.items():
        extra = [] if args.no_channel else ["--channel", channel]
        rc, out, err = product(f"ingest {ch}", "ingest", str(data / file_name), *extra, fail=False)
        if rc != 0:
            msg = (err or out).strip()
            result["errors"].append({"stage": f"ingest {file_name}", "exit": rc, "message": msg})
            print(f"ingest {file_name} exited {rc}:\n{msg}", file=sys.stderr)
            continue
        summary = json.loads(out.strip().splitlines()[-1])
        file_of_source[summary["source"]] = file_name
        file_of_batch[int(summary["batch_id"])] = file_name
        _rc, shown, _ = product("mapping show", "mapping", "show", summary["source"])
        mappings[file_name] = json.loads(shown)
        changes = dict(item.split("=", 1) for spec in args.remap if spec.split(":", 1)[0] in (ch, file_name)
                       for item in spec.split(":", 1)[1].split(","))
        if changes:   # a steward's hand correction: `mapping set`, re-standardized by the next resolve
            fixed = {h: ((changes.get(h.strip()) or None) if h.strip() in changes else f)
                     for h, f in mappings[file_name].items()}
            (work / f"mapping-{ch}.json").write_text(json.dumps(fixed, ensure_ascii=False), encoding="utf-8")
            product("mapping set", "mapping", "set", summary["source"], str(work / f"mapping-{ch}.json"),
                    "--comment", "benchmark --remap")
            mappings[file_name] = fixed
            result.setdefault("remapped", {})[file_name] = changes
    result["mappings"] = mappings

    _rc, out, _ = product("resolve", "resolve")
    result["resolve_output"] = out.strip()
    decided = Counter()
    if args.decisions:
        _rc, out, _ = product("review list", "review", "list", "--limit", str(args.decisions))
        queue = re.findall(r"^\s*(\d+):(\d+)\s+(\d+):(\d+)\s", out, re.M)
        for bl, rl, br, rr in queue:
            left, right = (file_of_batch[int(bl)], int(rl)), (file_of_batch[int(br)], int(rr))
            same = truth_of[left] == truth_of[right]
            rc, _o, err = product("decide", "review", "approve" if same else "reject", f"{bl}:{rl}", f"{br}:{rr}",
                                  "--comment", "benchmark truth", fail=False)
            decided["approved" if same else "rejected"] += rc == 0
            decided["refused"] += rc != 0
        _rc, out, _ = product("resolve again", "resolve")
        result["resolve_again_output"] = out.strip()
        result["review_queue_listed"] = len(queue)
        if args.apply_thresholds:  # the steward applies what the decisions recommend
            _rc, out, _ = product("thresholds", "review", "thresholds", "--apply", "--target", str(args.target))
            result["thresholds_output"] = out.strip()
    result["decided"] = dict(decided)

    crosswalk = work / "crosswalk.csv"
    product("export", "export", "crosswalk", "--out", str(crosswalk))
    started = time.perf_counter()
    with crosswalk.open(encoding="utf-8-sig", newline="") as f:
        exported = {(file_of_source.get(r["source"], r["source"]), int(r["row_number"])): r["oneid"]
                    for r in csv.DictReader(f)}
    missing = [k for k in truth_of if k not in exported]
    result["missing_from_crosswalk"] = len(missing)
    cluster_of = {k: exported.get(k, f"missing:{k}") for k in truth_of}
    result["steward"] = score(cluster_of, truth_of)
    result["product_by_pair"] = cg.by_channel_pair(cluster_of, truth_of, channel_of)

    records = read_records(data, mappings)
    rec_of = {(r["file"], r["row"]): r for r in records}
    assert set(rec_of) == set(truth_of), "the raw files and truth.csv disagree"
    baselines = {
        "exact normalized mobile only": union_clusters(records, lambda r: exact_keys(r, True)),
        "union of exact ids (mobile, resident ID, unionid, openid/appid)": union_clusters(
            records, lambda r: exact_keys(r, False)),
        "upper bound: exact ids, truth-restricted": oracle_clusters(records, truth_of, lambda r: exact_keys(r, False)),
        "upper bound: any shared evidence, truth-restricted": oracle_clusters(records, truth_of, evidence_keys),
    }
    sweep, plain = plain_splink(db, file_of_batch, truth_of)
    result["plain_splink_sweep"] = sweep
    baselines["plain Splink 5 (Steward's comparisons), threshold with the best F1"] = plain
    result["baselines"] = {name: score(c, truth_of) for name, c in baselines.items()}
    result["baselines_by_pair"] = {name: cg.by_channel_pair(c, truth_of, channel_of) for name, c in baselines.items()}

    # diagnosis
    phone_people: dict = defaultdict(set)
    phone_recs: dict = defaultdict(list)
    for r in records:
        for m in r["mobiles"]:
            phone_people[m].add(truth_of[(r["file"], r["row"])])
        for m in r["visible_mobiles"]:
            phone_recs[m].append(r)
    phone_group = {m: phone_group_relation(rs) for m, rs in phone_recs.items() if len(rs) > 1}
    try:
        notes = cg.hidden_notes(args.people, args.seed, args.profile)
        if set(notes) != set(truth_of):
            notes = {}
    except Exception:
        notes = {}
    # The other reading of a gift order: the row's name, phone and address are its receiver's
    receiver_truth = {k: (notes.get(k, {}).get("_gift") or p) for k, p in truth_of.items()}
    result["steward_gifts_to_receiver"] = score(cluster_of, receiver_truth) if notes else None
    by_person: dict = defaultdict(list)
    for k in truth_of:
        by_person[truth_of[k]].append(k)
    missed, missed_by_pair = Counter(), defaultdict(Counter)
    fine = Counter()
    samples: dict = defaultdict(list)
    gift_missed = Counter()
    best_between: dict = {}   # (person, fragment, fragment) -> strongest evidence between any two of their records
    for a, b in pairs_of(by_person, 10 ** 9):
        if cluster_of[a] == cluster_of[b]:
            continue
        cls = evidence_class(shared(rec_of[a], rec_of[b], phone_people, phone_group))
        cp = tuple(sorted((channel_of[a], channel_of[b]), key=CH_ORDER.index))
        gift = any(notes.get(k, {}).get("_gift") for k in (a, b))
        missed[coarse(cls)] += 1
        fine[cls + (" [a gift order]" if gift else "")] += 1
        gift_missed[coarse(cls)] += gift
        missed_by_pair[cp][coarse(cls)] += 1
        samples[cp].append((a, b, cls))
        frag = (truth_of[a], *sorted((cluster_of[a], cluster_of[b])))
        c = coarse(cls)
        if frag not in best_between or strength(c) < strength(best_between[frag]):
            best_between[frag] = c
    # a person split over fragments: the strongest evidence that could have joined each two fragments
    size: Counter = Counter((truth_of[k], cluster_of[k]) for k in truth_of)
    fragments, fragment_pairs = Counter(), Counter()
    for (person, f1, f2), c in best_between.items():
        fragments[c] += 1
        fragment_pairs[c] += size[(person, f1)] * size[(person, f2)]
    by_cluster: dict = defaultdict(list)
    for k, c in cluster_of.items():
        by_cluster[c].append(k)
    false_cls, false_notes = Counter(), Counter()
    big = sorted((len(v) for v in by_cluster.values() if len({truth_of[k] for k in v}) > 1), reverse=True)
    for a, b in pairs_of(by_cluster, 60):
        if truth_of[a] == truth_of[b]:
            continue
        false_cls[coarse(evidence_class(shared(rec_of[a], rec_of[b], phone_people)))] += 1
        for k, other in ((a, b), (b, a)):
            n = notes.get(k, {})
            if n.get("_gift") and n["_gift"] == truth_of[other]:
                false_notes[f"gift order: the receiver is the other record's person ({n['_gift_kind']})"] += 1
            elif n.get("_gift"):
                false_notes[f"gift order to a third person ({n['_gift_kind']})"] += 1
            if n.get("_shared"):
                false_notes["record gives a household member's phone"] += 1
    result["missed_pairs"] = sum(missed.values())
    result["missed_by_evidence"] = dict(missed.most_common())
    result["missed_by_evidence_fine"] = dict(fine.most_common(40))
    result["missed_with_gift_row"] = dict(gift_missed.most_common())
    result["split_fragments_by_best_evidence"] = {c: {"fragment_pairs": n, "missed_pairs": fragment_pairs[c]}
                                                  for c, n in sorted(fragments.items(), key=lambda t: strength(t[0]))}
    result["missed_by_pair_evidence"] = {"/".join(cp): dict(c.most_common()) for cp, c in missed_by_pair.items()}
    result["false_by_evidence"] = dict(false_cls.most_common())
    result["false_notes"] = dict(false_notes.most_common())
    result["impure_cluster_sizes"] = big[:10]
    rng = random.Random(args.seed)
    order = sorted(samples, key=lambda cp: -len(samples[cp]))
    chosen: list = []
    while len(chosen) < args.samples and any(samples.values()):
        for cp in order:
            if samples[cp] and len(chosen) < args.samples:
                chosen.append(samples[cp].pop(rng.randrange(len(samples[cp]))))
    result["missed_samples"] = [{"class": cls, "a": brief(rec_of[a]), "b": brief(rec_of[b]),
                                 "notes": [notes.get(a, {}), notes.get(b, {})]} for a, b, cls in chosen]
    timings["score + diagnose"] = time.perf_counter() - started
    result["timings"] = timings
    result["data"], result["store"] = str(data), str(db)
    return result


def plain_splink(db: Path, file_of_batch: dict[int, str], truth_of: dict) -> tuple[dict, dict]:
    """The issue's "plain Splink" baseline: Splink 5 with the product's comparisons and training on the
    product's standardized records, no rules, guards or review, clustered at each threshold; returns the
    score at every threshold and the clusters at the one with the best F1 (tuned against the truth)."""
    import shutil

    from governance.oneid import model
    from governance.oneid.links import split_rec_id
    from governance.store.storage import open_database
    from helpers import plain_splink as trained

    copy = db.with_name("plain-splink.duckdb")
    shutil.copy(db, copy)
    records = model._input(open_database(copy))
    con, linker, predictions = trained(records, 0.05)
    key = {}
    for rid in records.column("unique_id").to_pylist():
        batch_id, row = split_rec_id(rid)
        key[rid] = (file_of_batch[batch_id], row)
    sweep: dict[float, dict] = {}
    best: tuple[float, dict] = (-1.0, {})
    for threshold in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
        cluster_of = {key[r]: c for r, c in con.sql(f"SELECT unique_id, cluster_id FROM {clusters.physical_name}").fetchall()}
        cluster_of = {k: cluster_of.get(k, f"missing:{k}") for k in truth_of}
        sweep[threshold] = score(cluster_of, truth_of)
        if sweep[threshold]["f1"] > best[0]:
            best = (sweep[threshold]["f1"], cluster_of)
    return sweep, best[1]


def report(res: dict) -> None:
    print(f"product: {res['product']['root']} (this repository's HEAD {res['product']['head']}, working tree as it is)")
    print(f"data: {res['data']}  ({res['records']:,} records, {res['persons']:,} people, "
          f"{1 - res['persons'] / res['records']:.1%} duplicates)  rows per channel: "
          + ", ".join(f"{c} {n:,}" for c, n in sorted(res["rows_per_channel"].items(), key=lambda t: CH_ORDER.index(t[0]))))
    for e in res["errors"]:
        print(f"ERROR {e['stage']} (exit {e['exit']}): {e['message'].splitlines()[-1] if e['message'] else ''}")
    print("\n--mapping auto chose:")
    for file_name, m in res["mappings"].items():
        mapped = ", ".join(f"{h}->{f}" for h, f in m.items() if f)
        unmapped = ", ".join(h for h, f in m.items() if not f)
        print(f"  {file_name}: {mapped}; not mapped: {unmapped or 'none'}")
    print("\nresolve:", res["resolve_output"].replace("\n", "\n         "))
    if res.get("remapped"):
        print(f"hand corrections (--remap): {res['remapped']}")
    if res["decisions"]:
        print(f"decisions: {res.get('review_queue_listed', 0)} listed, {res['decided']}")
        if res.get("thresholds_output"):
            print("review thresholds --apply:\n  " + res["thresholds_output"].replace("\n", "\n  "))
        print("resolve again:", res.get("resolve_again_output", "").replace("\n", "\n               "))
    if res["missing_from_crosswalk"]:
        print(f"records missing from the crosswalk (scored as singletons): {res['missing_from_crosswalk']}")
    print("\n| method | precision | recall | F1 | predicted pairs | true pairs | clusters |")
    print("|---|---|---|---|---|---|---|")
    gifts = [("Steward, a gift order counted as its receiver's", res["steward_gifts_to_receiver"])]
    for name, s in [("**Steward**", res["steward"])] + [g for g in gifts if g[1]] + list(res["baselines"].items()):
        print(f"| {name} | {fmt(s['precision'])} | {fmt(s['recall'])} | {fmt(s['f1'])} | {s['predicted_pairs']:,} | "
              f"{s['true_pairs']:,} | {s['clusters']:,} |")
    print("plain Splink 5 by threshold: " + "; ".join(f"{t}: P {fmt(s['precision'])} R {fmt(s['recall'])} F1 {fmt(s['f1'])}"
                                                    for t, s in res["plain_splink_sweep"].items()))
    names = list(res["baselines"])
    print("\nper channel pair (recall = share of the true pairs linked; false = predicted pairs of two people):")
    print("| channels | true pairs | Steward linked | recall | Steward false | precision | mobile-only recall | "
          "exact-ids recall | exact-ids false | UB ids | UB any |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    bp = res["product_by_pair"]
    for cp in sorted(bp, key=lambda c: (-bp[c]["true"], -bp[c]["false"])):
        s = bp[cp]
        if not s["true"] and not s["false"]:
            continue
        b = [res["baselines_by_pair"][n].get(cp, {"true": 0, "linked": 0, "false": 0}) for n in names]
        rec = (lambda x: fmt(x["linked"] / x["true"]) if x["true"] else "–")
        prec = fmt(s["linked"] / s["predicted"]) if s["predicted"] else "–"
        print(f"| {cp.replace('/', '–')} | {s['true']:,} | {s['linked']:,} | {rec(s)} | {s['false']:,} | {prec} | {rec(b[0])} | "
              f"{rec(b[1])} | {b[1]['false']:,} | {rec(b[2])} | {rec(b[3])} |")
    print(f"\nmissed true pairs: {res['missed_pairs']:,}, by the evidence the two records share:")
    for cls, n in res["missed_by_evidence"].items():
        print(f"  {n:7,}  {cls}")
    print("of which a Tmall gift row is one of the two: " + ", ".join(
        f"{k} {v:,}" for k, v in res["missed_with_gift_row"].items() if v))
    print("people split over several OneIDs: for each two fragments of one person, the STRONGEST evidence between "
          "any record of one and any record of the other (fragment pairs; the true pairs they hold):")
    for c, n in res["split_fragments_by_best_evidence"].items():
        print(f"  {n['fragment_pairs']:7,}  {n['missed_pairs']:7,}  {c}")
    print("missed, finer classes (top 25):")
    for cls, n in list(res["missed_by_evidence_fine"].items())[:25]:
        print(f"  {n:7,}  {cls}")
    print("missed by channel pair (top 4 classes each):")
    for cp, c in sorted(res["missed_by_pair_evidence"].items(), key=lambda t: -sum(t[1].values())):
        print(f"  {cp} ({sum(c.values()):,}): " + "; ".join(f"{k} {v:,}" for k, v in list(c.items())[:4]))
    print("\nfalse pairs (clusters up to 60 records) by the evidence the two records share:")
    for cls, n in res["false_by_evidence"].items():
        print(f"  {n:7,}  {cls}")
    for cls, n in res["false_notes"].items():
        print(f"  {n:7,}  [generator note] {cls}")
    print(f"largest impure clusters: {res['impure_cluster_sizes']}")
    print(f"\n{len(res['missed_samples'])} sampled missed pairs:")
    for s in res["missed_samples"]:
        note = " ".join(f"{k}={v}" for n in s["notes"] for k, v in n.items() if v)
        print(f"  [{s['class']}]{' {' + note + '}' if note else ''}\n     a: {s['a']}\n     b: {s['b']}")
    print("\ntimings: " + "  ".join(f"{k} {v:.1f} s" for k, v in res["timings"].items()))
    slowest = max(res["timings"].items(), key=lambda t: t[1])
    print(f"slowest step: {slowest[0]} {slowest[1]:.1f} s of {sum(res['timings'].values()):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=("harsh", "mild"), default="harsh",
                        help="how often the hard cases occur (common names, shared and placeholder phones, gifts)")
    parser.add_argument("--data", help="folder of generated files: reused when it holds truth.csv, else generated into")
    parser.add_argument("--decisions", type=int, default=0, help="answer this many queued pairs from the truth")
    parser.add_argument("--json", help="write the results to this JSON file")
    parser.add_argument("--samples", type=int, default=30, help="missed pairs to show")
    parser.add_argument("--apply-thresholds", action="store_true",
                        help="after the decisions, apply the thresholds they recommend (review thresholds --apply)")
    parser.add_argument("--target", type=float, default=0.99, help="the precision target of --apply-thresholds")
    parser.add_argument("--no-channel", action="store_true", help="ingest without --channel (the product's default)")
    parser.add_argument("--product", help="root of the product checkout to drive (default: this repository)")
    parser.add_argument("--remap", action="append", default=[], metavar="CHANNEL:HEADER=FIELD[,HEADER=FIELD]",
                        help="correct the automatic mapping by hand after ingest (a what-if; FIELD empty = unmapped), "
                             "e.g. 'tmall:收货人手机=mobile,联系电话='")
    args = parser.parse_args()
    _paths(Path(args.product) if args.product else None)
    res = run(args)
    report(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
