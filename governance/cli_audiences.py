"""Command line for saved audiences: `python -m governance audiences …`.

    audiences list | show NAME
    audiences create NAME --rule RULE.json --purpose P [--kind dynamic|snapshot] [--channel C]
    audiences count NAME | --rule RULE.json [--purpose P] [--channel C] [--app-id ID] [--json]
    audiences snapshot NAME
    audiences overlap NAME NAME …
    audiences export NAME --channel C --purpose P --out FILE [--app-id A] [--hash md5|sha256]
    audiences push NAME --destination D [--channel C] [--purpose P]
    destinations add NAME --kind webhook|outbox --target URL|DIR [--secret-name S] | destinations list

The rule file holds the rule JSON (governance/audiences/rules.py). Every command that changes data
takes --actor, a user whose role may edit audiences.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from governance.access import auth
from governance.audiences import activation, library, members, push, rules
from governance.audiences.rules import AudienceError
from governance.bootstrap import protected_files
from governance.privacy import consent
from governance.store.tabular import check_output

WithActor = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def register(sub, with_actor: WithActor) -> argparse._SubParsersAction:
    """Add the `audiences` command to the top-level subparsers; returns its own subparsers."""
    p = sub.add_parser("audiences", help="saved audiences: rules, counts with their exclusions, snapshots, overlap")
    asub = p.add_subparsers(dest="audiences_cmd", required=True)
    _register_library(asub, with_actor)
    _register_activation(sub, asub, with_actor)
    return asub


def _register_library(asub, with_actor: WithActor) -> None:
    p = asub.add_parser("list", help="the saved audiences, one line each")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = asub.add_parser("show", help="one audience: its rule, purpose, channel, kind, members and versions")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)
    p = with_actor(asub.add_parser("create", help="save an audience (a new one, or a new version of it)"))
    p.add_argument("name")
    p.add_argument("--rule", required=True, metavar="RULE.json", help="the rule as a JSON file")
    p.add_argument("--purpose", required=True, choices=consent.PURPOSES, help="the consent purpose it serves")
    p.add_argument("--kind", choices=library.KINDS, default="dynamic",
                   help="dynamic: recomputed after every refresh; snapshot: frozen now")
    p.add_argument("--channel", choices=members.CHANNELS, default="sms", help="the channel it is reached on")
    p.add_argument("--description")
    p.add_argument("--reason", help="why it changes")
    p.set_defaults(func=cmd_create)
    p = asub.add_parser("count", help="how many people a saved audience or a rule reaches, and who is left out why")
    p.add_argument("name", nargs="?", help="a saved audience (or give --rule)")
    p.add_argument("--rule", metavar="RULE.json", help="a rule file instead of a saved audience")
    p.add_argument("--purpose", choices=consent.PURPOSES,
                   help="default: the audience's own purpose (marketing for --rule)")
    p.add_argument("--channel", choices=members.CHANNELS, default="sms", help="default sms")
    p.add_argument("--app-id", help="wechat: count open_ids of this app id only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_count)
    p = with_actor(asub.add_parser("snapshot", help="freeze an audience's eligible members now, for campaign audit"))
    p.add_argument("name")
    p.set_defaults(func=cmd_snapshot)
    p = asub.add_parser("overlap", help="pairwise overlap of saved audiences (counts and Jaccard)")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_overlap)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def read_rule(path: str) -> dict[str, Any]:
    """A rule from a JSON file (AudienceError, one line, when it cannot be read or is not a rule)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AudienceError(f"Cannot read the rule file {path}: {exc}") from None
    return rules.parse(text)


def _summary(a: library.Audience) -> dict[str, Any]:
    return {"name": a.name, "kind": a.kind, "purpose": a.purpose, "channel": a.channel, "owner": a.owner,
            "version": a.version, "members": a.members, "refreshed_at": a.refreshed_at, "updated_at": a.updated_at,
            "description": a.description}


def cmd_list(args, db) -> int:
    with db.cursor() as cur:
        found = library.list_audiences(cur)
    if args.json:
        print(_dumps([_summary(a) for a in found]))
    elif not found:
        print("no audiences")
    else:
        for a in found:
            shown = "-" if a.members is None else f"{a.members:,}"
            print(f"{a.name}  v{a.version}  {a.kind}  {a.purpose}/{a.channel}  members {shown}  owner {a.owner}")
    return 0


def cmd_show(args, db) -> int:
    with db.cursor() as cur:
        a = library.get(cur, args.name)
        history = library.versions(cur, args.name)
    if args.json:
        data = {**_summary(a), "rule": a.rule,
                "versions": history.astype(object).where(history.notna(), None).to_dict("records")}
        print(_dumps(data))
        return 0
    print(f"{a.name}  version {a.version}  {a.kind}")
    for label, value in (("purpose", a.purpose), ("channel", a.channel), ("owner", a.owner),
                         ("members", "-" if a.members is None else f"{a.members:,}"),
                         ("refreshed", a.refreshed_at or "-"), ("description", a.description or "-"),
                         ("rule", json.dumps(a.rule, ensure_ascii=False))):
        print(f"  {label}: {value}")
    for row in history.itertuples():
        print(f"  v{row.version}: {row.created_by} at {row.created_at:%Y-%m-%d %H:%M} UTC"
              f"{': ' + row.reason if isinstance(row.reason, str) else ''}")
    return 0


def cmd_create(args, db) -> int:
    rule = read_rule(args.rule)
    version = library.save(db, args.actor, args.name, rule, args.purpose, kind=args.kind, channel=args.channel,
                           description=args.description, reason=args.reason)
    with db.cursor() as cur:
        a = library.get(cur, args.name)
    print(f"saved {a.name} version {version} ({a.kind}, {a.purpose}/{a.channel}): {a.members or 0:,} members")
    return 0


def cmd_count(args, db) -> int:
    if bool(args.name) == bool(args.rule):
        raise AudienceError("Give a saved audience NAME or --rule RULE.json (one of them).")
    if args.rule:
        rule, purpose = read_rule(args.rule), args.purpose or "marketing"
    else:
        with db.cursor() as cur:
            a = library.get(cur, args.name)
        rule, purpose = a.rule, args.purpose or a.purpose
    with db.cursor() as cur:
        found = members.count(cur, rule, purpose, args.channel, app_id=args.app_id)
    if args.json:
        print(json.dumps(found.as_json(), ensure_ascii=False))
        return 0
    print(f"members: {found.members:,} ({purpose}, {args.channel})")
    # the reasons in words (no_contact -> no contact): the --json keys are the codes
    print("excluded: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in found.as_json()["excluded"].items()))
    return 0


def cmd_snapshot(args, db) -> int:
    snapshot_id = library.snapshot(db, args.actor, args.name)
    with db.cursor() as cur:
        row = library.snapshots(cur, args.name).iloc[0]
    print(f"snapshot {snapshot_id} of {args.name} version {row['version']}: {row['members']:,} members, "
          f"sha256 {row['checksum']}")
    return 0


def cmd_overlap(args, db) -> int:
    with db.cursor() as cur:
        frame = library.overlap(cur, args.names)
    if args.json:
        print(_dumps(frame.to_dict("records")))
        return 0
    chosen = list(dict.fromkeys(args.names))
    rank = {name: i for i, name in enumerate(chosen)}
    pairs = [r for r in frame.itertuples() if rank[r.a] < rank[r.b]] or list(frame.itertuples())
    for row in pairs:
        print(f"{row.a} & {row.b}: {row.a_count:,} / {row.b_count:,}, both {row.both:,}, jaccard {row.jaccard:.3f}")
    return 0


# ---- activation files, pushes and destinations -----------------------------------------------------

def _register_activation(sub, asub, with_actor: WithActor) -> None:
    p = with_actor(asub.add_parser("export", help="write an audience's activation file for a channel and purpose"))
    p.add_argument("name")
    p.add_argument("--channel", required=True, choices=activation.CHANNELS)
    p.add_argument("--purpose", required=True, choices=consent.PURPOSES, help="the consent purpose (sms: marketing)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--app-id", help="wechat: open_ids of this app id (default: union_ids)")
    p.add_argument("--hash", choices=activation.HASHES, default="sha256", help="douyin_dmp, databank, tencent_ads")
    p.add_argument("--fields", help="csv/xlsx: golden fields, comma-separated (default: all)")
    p.add_argument("--unmasked", action="store_true", help="csv/xlsx: unmasked values (needs pii.unmasked)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_export)
    p = with_actor(asub.add_parser("push", help="send an audience's activation file to a configured destination"))
    p.add_argument("name")
    p.add_argument("--destination", required=True)
    p.add_argument("--channel", choices=activation.CHANNELS, help="default: the audience's own channel")
    p.add_argument("--purpose", choices=consent.PURPOSES, help="default: the audience's own purpose")
    p.add_argument("--app-id", help="wechat: open_ids of this app id")
    p.add_argument("--hash", choices=activation.HASHES, default="sha256")
    p.set_defaults(func=cmd_push)
    p = sub.add_parser("destinations", help="where audience pushes go: webhooks and outbox folders (admins)")
    dsub = p.add_subparsers(dest="destinations_cmd", required=True)
    p = with_actor(dsub.add_parser("add", help="add or change a destination (admins)"))
    p.add_argument("name")
    p.add_argument("--kind", required=True, choices=push.KINDS)
    p.add_argument("--target", required=True, metavar="URL|DIR", help="https:// URL, or an absolute outbox folder")
    p.add_argument("--secret-name", help="webhook: the secrets-file entry holding its HMAC key")
    p.add_argument("--disabled", action="store_true", help="keep it, but refuse pushes to it")
    p.set_defaults(func=cmd_destinations_add)
    p = dsub.add_parser("list", help="the destinations (never their secrets)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_destinations_list)


def _role(db, actor: str) -> str | None:
    """The role of the enabled user `actor` names (None otherwise: refused by the permission checks)."""
    with db.cursor() as cur:
        user = auth.get_user(cur, actor) if actor else None
    return user.role if user and not user.disabled else None


def cmd_export(args, db) -> int:
    out = Path(args.out)
    extra = [Path(f"{out}.manifest.json")] if args.channel in ("csv", "xlsx") else []
    for path in (out, *extra):
        check_output(path, protected_files(db), args.force)
    fields = tuple(f.strip() for f in (args.fields or "").split(",") if f.strip())
    result = activation.export(db, args.actor, _role(db, args.actor), args.name, args.channel, args.purpose, out,
                               app_id=args.app_id, hash=args.hash, masked=not args.unmasked, fields=fields)
    print(f"wrote {result.rows:,} rows to {result.path} ({args.channel}, {args.purpose}); sha256 {result.checksum}; "
          f"activation {result.activation_id}")
    return 0


def cmd_push(args, db) -> int:
    result = push.push(db, args.actor, _role(db, args.actor), args.name, args.destination, channel=args.channel,
                       purpose=args.purpose, app_id=args.app_id, hash=args.hash)
    status = "" if result.status_code is None else f", HTTP {result.status_code}"
    verdict = "delivered" if result.ok else "FAILED"
    print(f"{verdict}: {result.rows:,} rows of {args.name} to {result.destination} ({result.kind}) after "
          f"{result.attempts} attempt(s){status}; sha256 {result.checksum}; activation {result.activation_id}")
    return 0 if result.ok else 1


def cmd_destinations_add(args, db) -> int:
    dest = push.add_destination(db, args.actor, args.name, args.kind, args.target, args.secret_name,
                                enabled=not args.disabled)
    print(f"saved destination {dest.name}: {dest.kind} {dest.target}" + ("" if dest.enabled else " (disabled)"))
    return 0


def cmd_destinations_list(args, db) -> int:
    with db.cursor() as cur:
        frame = push.list_destinations(cur)
    if args.json:
        print(_dumps(frame.astype(object).where(frame.notna(), None).to_dict("records")))
    elif frame.empty:
        print("no destinations")
    else:
        for row in frame.itertuples():
            secret = f"  secret {row.secret_name}" if isinstance(row.secret_name, str) else ""
            print(f"{row.name}  {row.kind}  {row.target}{secret}{'' if row.enabled else '  (disabled)'}")
    return 0
