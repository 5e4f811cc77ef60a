"""Command line for the read API: `python -m governance serve` and `python -m governance apikeys …`."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

from governance.api import keys
from governance.privacy.consent import PURPOSES
from governance.store import config

WithActor = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
SERVE_SCRIPT = config.ROOT / "serve.py"
DEFAULT_PORT = 8501


def register_api_commands(sub, with_actor: WithActor) -> None:
    """Add the `serve` and `apikeys` commands to the top-level subparsers."""
    p = sub.add_parser("serve", help="serve the pages and the read API (/api/v1) on one port (streamlit run serve.py)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--address", help="address to listen on (default: every interface)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("apikeys", help="keys of the read API: add (shown once), list, revoke")
    asub = p.add_subparsers(dest="apikeys_cmd", required=True)
    a = with_actor(asub.add_parser("add", help="create a key; it is printed once and stored only as a hash"))
    a.add_argument("name", help="the key's name: a-z, 0-9, '.', '_' or '-'")
    a.add_argument("--role", choices=keys.ROLES, required=True, help="whose masking and tag permissions apply")
    a.add_argument("--scopes", required=True, help=f"comma-separated: {','.join(keys.SCOPES)}")
    a.add_argument("--purpose", choices=PURPOSES, default=keys.DEFAULT_PURPOSE,
                   help="the consent purpose the key reads for: people without a granted consent for it are not "
                        f"found (default {keys.DEFAULT_PURPOSE})")
    a.add_argument("--expires", metavar="DATE",
                   help="the last day the key works: it stops at the end of this day, China time (Asia/Shanghai)")
    a.add_argument("--rate", type=int, default=keys.DEFAULT_RATE,
                   help=f"requests per minute (default {keys.DEFAULT_RATE})")
    a.add_argument("--json", action="store_true", help='print {"name": …, "key": …}')
    a.set_defaults(func=cmd_apikeys_add)
    a = asub.add_parser("list", help="every key: prefix, role, scopes, purpose, status, expiry, last use (never the key)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_apikeys_list)
    a = with_actor(asub.add_parser("revoke", help="revoke a key at once"))
    a.add_argument("name")
    a.set_defaults(func=cmd_apikeys_revoke)


def cmd_serve(args, db) -> int:
    """Become `streamlit run serve.py` on the store just opened (migrated); the server opens it again."""
    path = db.path
    db.close()  # the server process takes the file from here
    argv = [sys.executable, "-m", "streamlit", "run", str(SERVE_SCRIPT), "--server.port", str(args.port),
            "--server.headless", "true"]
    if args.address:
        argv += ["--server.address", args.address]
    print(f"Steward: pages and the API (/api/v1) on port {args.port}, store {path}", flush=True)
    os.chdir(config.ROOT)  # where .streamlit/config.toml is
    os.execve(sys.executable, argv, {**os.environ, "STEWARD_DB": str(path)})
    return 0  # not reached


def cmd_apikeys_add(args, db) -> int:
    key = keys.add(db, args.actor, args.name, args.role, args.scopes, args.expires, args.rate, args.purpose)
    name = args.name.strip().lower()
    if args.json:
        print(json.dumps({"name": name, "key": key}, ensure_ascii=False))
    else:
        print(f"API key {name} (shown once; only its hash is kept):")
        print(f"    {key}")
    return 0


def _text(value) -> str:
    return "-" if value is None or str(value) in ("NaT", "nan", "None") else str(value)


def cmd_apikeys_list(args, db) -> int:
    with db.cursor() as cur:
        frame = keys.list_keys(cur)
    columns = ["name", "prefix", "role", "scopes", "purpose", "status", "rate_per_minute", "expires_at",
               "last_used_at", "created_by", "created_at", "revoked_at"]
    rows = [{c: (None if _text(r[c]) == "-" else r[c]) for c in columns} for r in frame.to_dict("records")]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    if not rows:
        print("no API keys")
        return 0
    print("\t".join(columns[:9]))
    for r in rows:
        print("\t".join(_text(r[c]) for c in columns[:9]))
    return 0


def cmd_apikeys_revoke(args, db) -> int:
    keys.revoke(db, args.actor, args.name)
    print(f"API key {args.name.strip().lower()} revoked")
    return 0
