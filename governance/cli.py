"""Command line: `python -m governance [--db PATH] COMMAND …` runs each stage headless."""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path

from governance import pipeline
from governance.access import audit, auth, masking
from governance.access.events import Event
from governance.bootstrap import ADMIN_PASSWORD_FILE, first_start, protected_files
from governance.cli_api import register_api_commands
from governance.cli_audiences import register as register_audience_commands
from governance.cli_tags import register as register_tag_commands
from governance.exports import datasets
from governance.exports.datasets import ExportFilter
from governance.golden import overrides, survivorship
from governance.jobs import runner as jobs
from governance.oneid import calibration, review
from governance.oneid import resolve as oneid_resolve
from governance.oneid.links import rec_id
from governance.privacy import consent, dsr, retention, ropa, suppression
from governance.quality import profile, rules
from governance.sources import catalogue, mapping
from governance.sources.readers import SUPPORTED
from governance.store.config import resolve_db_path
from governance.store.errors import INCIDENT_LOG, DuplicateFileError, GovernanceError, PermissionDenied, StoreHolder, log_incident
from governance.store.schema import CHANNELS
from governance.store.storage import compact, open_database
from governance.store.tabular import FORMATS, check_output, private_part


def _default_actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # no user name in some containers
        return "cli"


def _print_progress(fraction: float, stage: str) -> None:
    print(f"  {stage} {fraction:.0%}", file=sys.stderr)


# Commands recorded as jobs, so the app's job panel lists them with their stage (governance/jobs).
JOB_COMMANDS = ("ingest", "standardize", "profile", "resolve")


def _progress(args):
    """The progress callback of a command: printed with --progress, and recorded on its job."""
    printing, job = getattr(args, "progress", False), getattr(args, "job_progress", None)
    if not printing and job is None:
        return None

    def progress(fraction: float, stage: str) -> None:
        if printing:
            _print_progress(fraction, stage)
        if job is not None:
            job(fraction, stage)
    return progress


def cmd_init(args, db) -> int:
    started = first_start(db, demo=not args.no_demo)
    if started.password:
        print("Created user 'admin' with the password below (shown once; also saved in "
              f"{db.path.parent / ADMIN_PASSWORD_FILE}, readable only by you):")
        print(f"    {started.password}")
    for r in started.demo:
        print(f"Loaded demo source {r.source} ({r.channel}): {r.rows} rows from {r.file_name}")
    print(f"Database ready: {db.path}")
    return 0


def cmd_ingest(args, db) -> int:
    chosen = "auto" if args.mapping == "auto" else _mapping_file(args.mapping)
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise GovernanceError(f"No such file: {name}")
        try:
            loaded = pipeline.load_file(db, args.actor, path, source=args.source, channel=args.channel, mapping=chosen,
                                        encoding=args.encoding, sheet=args.sheet, force=args.force,
                                        progress=_progress(args))
        except DuplicateFileError as exc:
            raise DuplicateFileError(f"{exc} Add --force to load it again.", exc.batch_id) from None
        print(json.dumps(loaded.summary(), ensure_ascii=False))
    return 0


def cmd_sources(args, db) -> int:
    with db.cursor() as cur:
        listing = catalogue.as_json(cur)
    if args.json:
        print(json.dumps(listing, ensure_ascii=False, indent=2))
        return 0
    for s in listing:
        mapped = sum(1 for f in s["mapping"].values() if f)
        print(f"{s['source']}\t{s['channel']}\tbatches={s['batches']}\trows={s['rows']}\tmapped={mapped}/{len(s['mapping'])}")
    return 0


def _mapping_file(name: str) -> dict:
    """A mapping file's JSON object {COLUMN: FIELD or null}, or one line saying why not."""
    try:
        chosen = json.loads(Path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GovernanceError(f"Cannot read the mapping file {name}: {exc}") from None
    except RecursionError:
        raise GovernanceError(f"Cannot read the mapping file {name}: it is nested too deeply.") from None
    if not isinstance(chosen, dict):
        raise GovernanceError("The mapping file must hold a JSON object {COLUMN: FIELD or null}.")
    return chosen


def cmd_mapping(args, db) -> int:
    with db.cursor() as cur:
        known = mapping.source_headers(cur, args.source)
        if not known:
            raise GovernanceError(f"No source named {args.source!r} (or it has no batch yet).")
        if args.mapping_cmd == "show" and args.explain:
            for header, field, confidence, method in mapping.basis(cur, args.source):
                shown = "" if confidence is None or field is None else f"{confidence:.2f}"
                print(f"{header}\t{field or '-'}\t{shown}\t{method}")
            return 0
        if args.mapping_cmd == "show":
            print(json.dumps(mapping.load(cur, args.source), ensure_ascii=False, indent=2))
            return 0
    new = _mapping_file(args.file)
    unknown = sorted(set(new) - set(known))
    if unknown:
        raise GovernanceError(f"{args.source!r} has no column {', '.join(map(repr, unknown))}; "
                              f"its columns are {', '.join(known)}.")
    version = mapping.update(db, args.actor, args.source, new, comment=args.comment)
    print(f"{args.source}: mapping version {version}")
    return 0


def cmd_standardize(args, db) -> int:
    result = pipeline.standardize(db, args.actor, progress=_progress(args))
    print(json.dumps(result.summary()) if args.json else
          f"standardized {result.records} records in {len(result.batches)} batches "
          f"({result.new_values} new distinct values) in {result.seconds:.2f} s")
    return 0


def cmd_profile(args, db) -> int:
    result = pipeline.refresh_quality(db, args.actor, progress=_progress(args))
    with db.cursor() as cur:
        report = profile.as_json(cur, result.run.run_id)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"workspace score {report['score']}  ({result.records} records, run {result.run.run_id}, "
          f"{result.run.seconds:.2f} s)")
    for s in report["sources"]:
        print(f"  {s['source']}\trows={s['rows']}\tscore={s['score']}")
    return 0


# What --expression sets, per rule type.
_RULE_EXPRESSION = {"custom_sql": "sql", "regex": "pattern", "allowed_values": "values", "consistency": "check"}


def cmd_rules(args, db) -> int:
    """`rules list | add | enable | disable`: quality rules, with the checks and audit of the Rules page."""
    if args.rules_cmd == "list":
        with db.cursor() as cur:
            listing = rules.as_json(cur)
        if args.json:
            print(json.dumps(listing, ensure_ascii=False, indent=2))
            return 0
        for r in listing:
            what = ",".join(r["fields"]) or json.dumps(r["params"], ensure_ascii=False)
            print(f"{r['rule_id']}\tv{r['version']}\t{r['rule_type']}\t{what}\t{r['severity']}\t"
                  f"{'enabled' if r['enabled'] else 'disabled'}" + (f"\tskipped: {r['problem']}" if r["problem"] else ""))
        return 0
    if args.rules_cmd == "add":
        params = {}
        if args.expression is not None:
            if args.type not in _RULE_EXPRESSION:
                raise GovernanceError(f"--expression is for {', '.join(_RULE_EXPRESSION)} rules, not {args.type}.")
            params[_RULE_EXPRESSION[args.type]] = ([v.strip() for v in args.expression.split(",")]
                                                   if args.type == "allowed_values" else args.expression)
        rule = rules.Rule(args.name, args.name, args.type, args.field, params, severity=args.severity,
                          mostly=args.mostly, dimension=args.dimension)
        print(f"rule {rule.rule_id}: version {rules.save_rule(db, args.actor, rule, args.comment)}")
        return 0
    version = rules.set_enabled(db, args.actor, args.name, args.rules_cmd == "enable", args.comment)
    print(f"rule {args.name}: {args.rules_cmd}d (version {version})")
    return 0


def _count(text: str) -> int:
    """An argparse type: a whole number of rows, 0 or more."""
    value = int(text)  # argparse reports a ValueError as an invalid value
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is below 0")
    return value


def _day(text: str) -> date:
    """An argparse type: a calendar date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a date (YYYY-MM-DD)") from None


def _moment(text: str) -> datetime:
    """An argparse type: an ISO date, with or without a time."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a date (YYYY-MM-DD, a time may follow)") from None


def _is_model(text: str) -> bool:
    """Splink settings with their comparisons (an empty object would mean: train a new model)."""
    try:
        settings = json.loads(text)
    except ValueError:
        return False
    return isinstance(settings, dict) and isinstance(settings.get("comparisons"), list) and bool(settings["comparisons"])


def _check_package_folder(out: Path, db) -> None:
    """An access package folder must be new or empty: another package's files left in it would go to
    this requester too."""
    for what, own in protected_files(db).items():
        if os.path.realpath(out) == os.path.realpath(own):
            raise GovernanceError(f"{out} is Steward's {what}; give a new folder.")
    if out.exists() and not out.is_dir():
        raise GovernanceError(f"{out} is a file; give a new or empty folder, or FILE.zip.")
    if out.is_dir() and any(out.iterdir()):
        raise GovernanceError(f"{out} is not empty; give a new or empty folder, or FILE.zip.")


def cmd_resolve(args, db) -> int:
    try:
        model_json = Path(args.model).read_text(encoding="utf-8") if args.model else None
    except (OSError, ValueError) as exc:
        raise GovernanceError(f"Cannot read the model file {args.model}: {exc}") from None
    if model_json is not None and not _is_model(model_json):
        raise GovernanceError(f"{args.model} is not a OneID model: use a file `resolve --save-model` wrote.")
    if args.save_model:  # before the run: a refused file name costs no resolve
        check_output(args.save_model, protected_files(db), args.force)
    engine = pipeline.scoring_engine(args.engine, args.spark_master, args.spark_conf,
                                     Path(args.spark_scratch) if args.spark_scratch else None)
    resolved = pipeline.resolve(db, args.actor, use_model=not args.no_model, model_json=model_json,
                                retrain=args.retrain, auto_accept=args.auto_accept, review_low=args.review_low,
                                full=args.full, engine=engine, progress=_progress(args))
    result, golden = resolved.oneid, resolved.golden
    if args.save_model:
        with db.cursor() as cur:
            used = oneid_resolve.run_model(cur, result.run_id)
        if used is None:
            raise GovernanceError("This run scored no model (--no-model): there is no model to save.")
        try:
            with private_part(Path(args.save_model)) as part:
                part.write_text(used, encoding="utf-8")
                os.replace(part, args.save_model)
        except OSError as exc:
            raise GovernanceError(f"Cannot write the model file {args.save_model}: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(result.summary() | {"golden_records": golden.oneids, "golden_rebuilt": golden.rebuilt,
                                             "golden_mode": golden.mode}))
    else:
        t = result.timings
        how = (f"incremental: {result.area} records clustered again" if result.mode == "incremental"
               else f"full: {_FULL_BECAUSE.get(result.full_because or '', result.full_because)}")
        print(f"resolve ({how})")
        print(f"records {result.records}  links {result.links}  model pairs {result.model_pairs}  "
              f"auto-links {result.auto_links}  queue {result.queue}  OneIDs {result.clusters}  new {result.new}  "
              f"merged {result.merged}  split {result.split}  retired {result.retired}  cut links {result.cuts}  "
              f"flagged {result.flagged}")
        print("timings: " + "  ".join(f"{k} {v:.2f} s" for k, v in t.items()))
        print(f"golden records: {golden.oneids} ({golden.mode} refresh, {golden.rebuilt} rebuilt, {golden.seconds:.2f} s)")
    return 0


_FULL_BECAUSE = {"asked": "asked for (--full)", "first": "the first run that keeps its links",
                 "no_model": "rules and decisions only (--no-model)", "restandardized": "records were standardized again",
                 "model": "a new or different model", "thresholds": "the thresholds changed",
                 "rules": "the match rules changed (turned on or off, added or changed)", "removed": "records were removed",
                 "model_input": "the model's input changed with a release",
                 "many": "more than a fifth of the records are new",
                 "unmarked": "scored pairs from before the auto-link guards were recorded"}


def cmd_review(args, db) -> int:
    if args.review_cmd in ("list", "decisions"):
        with db.cursor() as cur:  # records as BATCH:ROW, as approve/reject take them
            rows = (review.queue(cur, args.source, args.low, args.high, limit=args.limit).drop(columns=["rec_l", "rec_r"])
                    if args.review_cmd == "list" else review.recent_decisions(cur, args.limit))
        print(rows.to_string(index=False) if not rows.empty else "nothing to show")
        return 0
    if args.review_cmd == "bulk":
        with db.cursor() as cur:
            preview = review.bulk_preview(cur, args.low, args.high)
        print(f"{args.decision} {preview['pairs']} undecided pairs in [{args.low}, {args.high}] "
              f"touching {preview['oneids']} OneIDs")
        if not args.dry_run:
            done = review.bulk_decide(db, args.actor, args.low, args.high, args.decision, args.comment)
            print(f"decided {done} pairs (run resolve to apply them)")
        return 0
    if args.review_cmd == "thresholds":
        return _review_thresholds(args, db)
    left, right = (_record_key(key) for key in (args.left, args.right))
    decision = "approve" if args.review_cmd == "approve" else "reject"
    decision_id = review.decide(db, args.actor, left, right, decision, args.comment)
    print(f"decision {decision_id}: {decision} {args.left} {args.right}")
    return 0


def _record_key(text: str) -> int:
    """A record named BATCH:ROW (as `review list` shows it) -> its record id."""
    batch, _, row = text.strip().partition(":")
    if not (batch.isascii() and batch.isdigit() and row.isascii() and row.isdigit()) \
            or not (0 < int(batch) < 2**31 and 0 < int(row) < 2**32):
        raise GovernanceError(f"A record is BATCH:ROW with two positive numbers (for example 3:17), not {text!r}.")
    return rec_id(int(batch), int(row))


def _review_thresholds(args, db) -> int:
    """Precision per probability band measured from the decisions, the thresholds that hold the
    target, and with --apply: apply them (audited) and resolve again with the saved model."""
    with db.cursor() as cur:
        bands = calibration.precision_by_band(cur, min_labels=args.min_labels)
        rec = calibration.recommend(cur, target=args.target, min_labels=args.min_labels)
        new = (rec.auto_accept, rec.review_low) if rec.auto_accept is not None and rec.review_low is not None else None
        preview = review.threshold_preview(cur, *new) if new and rec.changes else None
    applied = None
    if args.apply and new and rec.changes:
        result = pipeline.apply_thresholds(db, args.actor, *new, rec.target).oneid
        applied = {"oneids": result.clusters, "auto_links": result.auto_links, "queue": result.queue}
    skipped = ("" if not args.apply or applied else
               "nothing applied: " + ("too few decisions" if not rec.ready else "the recommendation is today's thresholds"))
    labelled = bands[(bands["labels"] > 0) | (bands["held"] > 0)]
    if args.json:  # a band of held labels alone has no precision: null, not NaN
        rows = labelled.astype(object).where(labelled.notna(), None).to_dict("records")
        print(json.dumps({"bands": rows, "labels": rec.labels, "held": rec.held, "target": rec.target,
                          "current": {"auto_accept": rec.current_auto_accept, "review_low": rec.current_review_low},
                          "recommended": {"auto_accept": rec.auto_accept, "review_low": rec.review_low},
                          "preview": preview, "applied": applied, "skipped": skipped or None},
                         ensure_ascii=False, default=str, allow_nan=False))
        return 0
    print(labelled.to_string(index=False) if not labelled.empty else "no decision on a scored pair yet")
    if rec.held:
        print(f"held: {rec.held} decided pairs the auto-link guards send to a steward at any threshold are not counted")
    print(f"current: auto-accept {rec.current_auto_accept}  review-low {rec.current_review_low}")
    if not rec.ready:
        print(f"too few decisions: a band needs {rec.min_labels} to count ({rec.labels} so far"
              + (f", besides the {rec.held} held back)" if rec.held else ")"))
    else:
        print(f"recommended for precision {rec.target}: auto-accept {rec.auto_accept}  review-low {rec.review_low}"
              + (f"  ({preview['to_auto']} pairs move to auto-accept, {preview['to_review']} back to review, "
                 f"{preview['dropped']} leave the queue; up to {preview['merging_oneids']} OneIDs merge)"
                 if preview else "  (no change)"))
    if applied:
        print(f"applied: OneIDs {applied['oneids']}  auto-links {applied['auto_links']}  queue {applied['queue']}")
    elif skipped:
        print(skipped)
    return 0


# --- exports and consent -------------------------

def _actor_role(db, actor: str) -> str | None:
    """The role of the user the actor names (None for an actor that is no enabled user)."""
    with db.cursor() as cur:
        user = auth.get_user(cur, actor)
    return user.role if user and not user.disabled else None


def _export_filter(items: list[str]):
    values: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in ("channel", "province", "consent", "min_completeness", "tag"):
            raise GovernanceError(f"Bad --filter {item!r}: use channel=, province=, consent=, min_completeness= or tag=.")
        values.setdefault(key, []).extend(v.strip() for v in value.split(",") if v.strip())
    try:
        completeness = float(values["min_completeness"][-1]) if values.get("min_completeness") else None
    except ValueError:
        completeness = -1.0
    if completeness is not None and not 0 <= completeness <= 1:
        raise GovernanceError("min_completeness must be a number between 0 and 1.")
    return ExportFilter(channels=tuple(values.get("channel", ())), provinces=tuple(values.get("province", ())),
                        consent=values["consent"][-1] if values.get("consent") else None, min_completeness=completeness,
                        tags=tuple(values.get("tag", ())))


def cmd_export(args, db) -> int:
    if args.unmasked and not args.purpose:
        raise GovernanceError("An unmasked export needs --purpose.")
    out = Path(args.out)
    for path in (out, Path(f"{out}.manifest.json")):
        check_output(path, protected_files(db), args.force)
    fmt = args.format or (out.suffix.lstrip(".").lower() if out.suffix.lower() in (".xlsx", ".parquet") else "csv")
    request = datasets.ExportRequest(
        args.what, args.actor, format=fmt, fields=tuple(f.strip() for f in (args.fields or "").split(",") if f.strip()),
        filter=_export_filter(args.filter), masked=not args.unmasked, purpose=args.purpose,
        role=_actor_role(db, args.actor), labels=bool(args.labels), lang=args.labels or "en")
    if request.labels and not request.labelled:
        raise GovernanceError("Parquet keeps the field names and codes; --labels applies to CSV and XLSX.")
    try:
        manifest = datasets.run_export(db, request, out, progress=(lambda n, total: _print_progress(n / max(total, 1), "rows"))
                                      if args.progress else None)
    except PermissionDenied as exc:
        raise PermissionDenied(f"{exc} Name a user whose role has it with --actor USER.") from None
    print(f"wrote {manifest.row_count} rows to {out} ({'masked' if manifest.masked else 'unmasked'}, "
          f"{'labels: ' + manifest.language if manifest.labels else 'codes'}, sha256 {manifest.sha256}); manifest {out}.manifest.json")
    return 0


def cmd_consent(args, db) -> int:
    if args.consent_cmd == "import":
        result = consent.import_from_sources(db, args.actor)
        print(f"imported {result.records} consent records ({result.granted} granted, {result.withdrawn} withdrawn)")
        return 0
    if args.consent_cmd == "list":
        with db.cursor() as cur:
            flt = consent.LedgerFilter(oneid=args.oneid, purpose=args.purpose, state=args.state)
            frame = consent.history(cur, args.oneid) if args.history and args.oneid else \
                consent.current_page(cur, flt, limit=args.limit)
        print(frame.to_string(index=False) if not frame.empty else "no consent records")
        return 0
    record_id = consent.record(db, args.actor, args.oneid, args.purpose,
                               "granted" if args.consent_cmd == "grant" else "withdrawn", method=args.method,
                               channel=args.channel, notice_version=args.notice_version, evidence_ref=args.evidence,
                               expires_at=args.expires)
    print(f"consent record {record_id}: {args.consent_cmd} {args.purpose} for {args.oneid}")
    return 0


def _add_export_and_consent_parsers(sub, with_actor) -> None:
    p = with_actor(sub.add_parser("export", help="export golden records, the crosswalk, lineage or tag values "
                                                 "(masked by default)"))
    p.add_argument("what", choices=datasets.DATASETS)
    p.add_argument("--out", required=True, help="output file; the manifest goes to FILE.manifest.json")
    p.add_argument("--force", action="store_true", help="replace the output file (and its manifest) if it exists")
    p.add_argument("--format", choices=FORMATS, help="default: from the file extension, else csv")
    p.add_argument("--fields", help="comma-separated columns (default: all)")
    p.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                   help="channel=crm,pos | province=广东省 | consent=marketing | min_completeness=0.6 | "
                        "tag=lifecycle_stage (tag_values) (repeatable)")
    p.add_argument("--unmasked", action="store_true",
                   help="full values: --actor must be a user allowed to see personal data; needs --purpose; audited")
    p.add_argument("--purpose", help="why; 'marketing' (or 'marketing: …') keeps only consenting adults")
    p.add_argument("--labels", choices=("zh", "en"),
                   help="headers and coded values as labels in this language, for people (CSV and XLSX); "
                        "default: field names and codes, for systems. Parquet always keeps codes")
    p.add_argument("--progress", action="store_true", help="print progress to stderr")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("consent", help="the consent ledger")
    csub = p.add_subparsers(dest="consent_cmd", required=True)
    with_actor(csub.add_parser("import", help="import the mapped marketing_consent flags of rows not imported yet"))
    for name in ("grant", "withdraw"):
        c = with_actor(csub.add_parser(name))
        c.add_argument("oneid")
        c.add_argument("purpose", choices=consent.ALL_PURPOSES)
        c.add_argument("--method", choices=consent.METHODS, default="other")
        c.add_argument("--channel")
        c.add_argument("--notice-version")
        c.add_argument("--evidence", help="evidence reference (form id, recording, ticket)")
        c.add_argument("--expires", type=_moment, help="expiry date (and time) of a grant, ISO: YYYY-MM-DD[THH:MM]")
    c = csub.add_parser("list", help="current consent per person and purpose")
    c.add_argument("--oneid")
    c.add_argument("--purpose", choices=consent.ALL_PURPOSES)
    c.add_argument("--state", choices=consent.STATES)
    c.add_argument("--history", action="store_true", help="every record of --oneid, newest first")
    c.add_argument("--limit", type=_count, default=100)
    p.set_defaults(func=cmd_consent)

# --- end of exports and consent --------------------------------------------------------------


def _read_new_password(args) -> tuple[str, bool]:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return auth.generate_password(), True


def cmd_users(args, db) -> int:
    action = args.users_cmd
    if action == "list":
        with db.cursor() as cur:
            frame = auth.list_users(cur)
        print(frame[["username", "display_name", "role", "disabled", "locked_until"]].to_string(index=False))
        return 0
    if action == "add":
        password, generated = _read_new_password(args)
        auth.create_user(db, args.actor, args.username, password, args.role, display_name=args.name, email=args.email)
    elif action == "reset-password":
        password, generated = _read_new_password(args)
        auth.set_password(db, args.actor, args.username, password)
    elif action == "set-role":
        auth.set_role(db, args.actor, args.username, args.role)
    elif action in ("disable", "enable"):
        auth.set_disabled(db, args.actor, args.username, action == "disable")
    elif action == "unlock":
        auth.unlock(db, args.actor, args.username)
    if action in ("add", "reset-password") and generated:
        print(f"Password for {args.username} (shown once): {password}")
    print(f"{action}: {args.username} done")
    return 0


def cmd_audit(args, db) -> int:
    """`audit verify`: check the keyed hash chain against its anchor and, when intact, anchor its
    head (exit 1 when broken; with --reanchor, anchor the head whatever the anchor said, when
    every row verifies); report rows whose action is not a declared event
    (governance/access/events.py). Undeclared actions are a warning on stderr, not a failure: such
    rows may predate their declaration and still chain correctly."""
    check = audit.reanchor(db) if args.reanchor else audit.verify(db)
    with db.cursor() as cur:
        undeclared = audit.undeclared_actions(cur)
    if undeclared:
        listed = ", ".join(f"{action} ({n})" for action, n in undeclared.items())
        print(f"Warning: {sum(undeclared.values())} rows with an undeclared action: {listed}.", file=sys.stderr)
    done = "Re-anchored. " if args.reanchor and check.ok else ""
    print(done + check.message, file=sys.stdout if check.ok else sys.stderr)
    return 0 if check.ok else 1


# ---- masking policies and record of processing ---------------------------------------------------

def cmd_masking(args, db) -> int:
    if args.masking_cmd == "set":
        changed = masking.set_rule(db, args.actor, args.sensitivity_class, args.role, args.method,
                                   args.keep_start, args.keep_end)
        print(f"{args.sensitivity_class}:{args.role} {'changed' if changed else 'unchanged'}")
        return 0
    with db.cursor() as cur:
        frame = masking.policy_frame(cur)
    print(frame[["sensitivity_class", "role", "method", "keep_start", "keep_end", "fields"]].to_string(index=False))
    return 0



def cmd_ropa(args, db) -> int:
    out = Path(args.out)
    check_output(out, protected_files(db), args.force)
    fmt = args.format or {".csv": "csv", ".md": "md"}.get(out.suffix.lower(), "xlsx")
    with db.cursor() as cur:
        record = ropa.build(cur)
        policy = masking.policy_frame(cur)
    data = {"xlsx": ropa.to_xlsx, "csv": ropa.to_csv}.get(fmt, lambda r: ropa.pipia_markdown(r, policy).encode("utf-8"))
    out.write_bytes(data(record))
    audit.log(db, args.actor, Event.ROPA_EXPORT, "ropa", fmt, {"file": out.name})
    print(f"wrote the record of processing ({len(record.register)} source × category rows, {fmt}) to {out}")
    return 0


# ---------------------------------------------------------------- data-subject requests and retention

def cmd_dsr(args, db) -> int:
    action = args.dsr_cmd
    if action == "list":
        with db.cursor() as cur:
            frame = dsr.requests_frame(cur, args.status)
        frame = frame.drop(columns=["requester"])  # personal data stays off the terminal
        print(frame.to_string(index=False) if not frame.empty else "no requests")
        return 0
    if action == "create":
        identifiers = {k: getattr(args, k) for k in dsr.IDENTIFIERS if getattr(args, k)}
        request_id = dsr.create(db, args.actor, args.type, args.requester, oneids=args.oneid or None,
                                identifiers=identifiers or None, identity_check=args.identity_check,
                                received_on=args.received)
        if args.identity_check:
            dsr.verify(db, args.actor, request_id, args.identity_check)
        with db.cursor() as cur:
            req = dsr.get(cur, request_id)
        print(json.dumps({"request_id": request_id, "status": req.status, "due_on": str(req.due_on),
                          "oneids": req.oneids}))
        return 0
    if action == "verify":
        dsr.verify(db, args.actor, args.request, args.identity_check)
    elif action == "close":
        if args.reject:
            dsr.reject(db, args.actor, args.request, args.response)
        else:
            dsr.close(db, args.actor, args.request, args.response)
    elif action in ("access", "delete"):
        if action == "access":  # the output is checked before any request is recorded
            if not args.out:
                raise GovernanceError("dsr access needs --out DIR (or FILE.zip).")
            if Path(args.out).suffix.lower() == ".zip":
                check_output(args.out, protected_files(db), args.force)
            else:
                _check_package_folder(Path(args.out), db)
        request_id = args.request
        if request_id is None:  # a request record is kept even when the CLI acts directly on a OneID
            if not args.oneid:
                raise GovernanceError("Give --request N or --oneid ID.")
            request_id = dsr.create(db, args.actor, "access" if action == "access" else "deletion",
                                    args.requester, oneids=[args.oneid])
            dsr.verify(db, args.actor, request_id, args.identity_check)
        if action == "access":
            path = dsr.write_package(dsr.access_package(db, args.actor, request_id), Path(args.out))
            print(f"request {request_id}: access package written to {path}")
        else:
            result = pipeline.delete_person(db, args.actor, request_id)
            print(json.dumps({"request_id": request_id, "tombstone_id": result.tombstone_id,
                              "records": result.records, "deleted": result.deleted}))
        return 0
    elif action == "purge":

        print(json.dumps({"tombstone_id": args.tombstone, "deleted": suppression.purge(db, args.actor, args.tombstone)}))
        return 0
    elif action == "lift":
        released = pipeline.lift_tombstone(db, args.actor, args.tombstone, args.reason)
        print(f"tombstone {args.tombstone} lifted: {released} rows standardized again (run resolve next)")
        return 0
    print(f"request {args.request}: {action} done")
    return 0


def cmd_retention(args, db) -> int:
    if args.retention_cmd == "set":
        retention.set_policy(db, args.actor, args.scope, args.target, args.days, args.basis)
        print(f"retention {args.scope} {args.target}: {args.days} days")
    elif args.retention_cmd == "scan":
        with db.cursor() as cur:
            scans = retention.scan_all(cur)
        print(json.dumps([s.summary() for s in scans], ensure_ascii=False, indent=2))
    else:
        run_id = pipeline.apply_retention(db, args.actor, args.scope, args.target, args.confirm)
        with db.cursor() as cur:
            run = retention.runs(cur, 1).iloc[0]
        print(f"retention run {run_id}: {run['records']} records erased ({run['deleted']})")
    return 0


def cmd_compact(args, db) -> int:
    audit.log(db, args.actor, Event.STORE_COMPACT, "store", db.path.name)
    path = db.path
    db.close()
    sizes = compact(path)
    print(f"compacted {path}: {sizes['bytes_before']:,} -> {sizes['bytes_after']:,} bytes")
    return 0


def _add_dsr_parsers(sub, with_actor) -> None:
    p = sub.add_parser("dsr", help="data-subject requests (access, correction, deletion, withdrawal)")
    dsub = p.add_subparsers(dest="dsr_cmd", required=True)
    d = dsub.add_parser("list")
    d.add_argument("--status", choices=dsr.STATUSES)
    d = with_actor(dsub.add_parser("create", help="log a request (and verify it with --identity-check)"))
    d.add_argument("--type", choices=dsr.TYPES, required=True)
    d.add_argument("--requester", required=True)
    d.add_argument("--oneid", action="append", help="the person's OneID (repeatable)")
    for name in dsr.IDENTIFIERS:
        d.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"find the OneID by {name}")
    d.add_argument("--identity-check", help="how the identity was checked (marks the request verified)")
    d.add_argument("--received", type=_day, help="received date YYYY-MM-DD (default today)")
    d = with_actor(dsub.add_parser("verify"))
    d.add_argument("request", type=int)
    d.add_argument("--identity-check", required=True)
    d = with_actor(dsub.add_parser("close"))
    d.add_argument("request", type=int)
    d.add_argument("--response", required=True)
    d.add_argument("--reject", action="store_true", help="close as rejected (the response is the reason)")
    for name in ("access", "delete"):
        d = with_actor(dsub.add_parser(name, help="write the access package" if name == "access" else
                                       "erase the person, keeping a tombstone"))
        d.add_argument("--request", type=int, help="a verified request")
        d.add_argument("--oneid", help="act on this OneID (a verified request is recorded for it)")
        d.add_argument("--requester", default="(recorded via CLI)")
        d.add_argument("--identity-check", default="checked by the operator (CLI)")
        if name == "access":
            d.add_argument("--out", help="directory, or a .zip file")
            d.add_argument("--force", action="store_true", help="replace the .zip file if it exists")
    d = with_actor(dsub.add_parser("lift", help="lift a deletion tombstone's suppression"))
    d.add_argument("tombstone", type=int)
    d.add_argument("--reason", required=True)
    d = with_actor(dsub.add_parser("purge", help="erase the rows a tombstone suppressed (raw rows included)"))
    d.add_argument("tombstone", type=int)
    p.set_defaults(func=cmd_dsr)

    p = sub.add_parser("retention", help="retention periods, expiry scan and erasure")
    rsub = p.add_subparsers(dest="retention_cmd", required=True)
    r = with_actor(rsub.add_parser("set"))
    r.add_argument("scope", choices=retention.SCOPES)
    r.add_argument("target", help="source name or purpose")
    r.add_argument("days", type=int)
    r.add_argument("--basis", help="why this period (legal basis, business need)")
    with_actor(rsub.add_parser("scan", help="what every policy would erase now (counts)"))
    r = with_actor(rsub.add_parser("apply", help="erase what a policy's scan found"))
    r.add_argument("scope", choices=retention.SCOPES)
    r.add_argument("target")
    r.add_argument("--confirm", type=int, required=True, help="the record count the scan reported")
    p.set_defaults(func=cmd_retention)

    p = with_actor(sub.add_parser("compact", help="rewrite the store so erased values leave the file (app stopped)"))
    p.set_defaults(func=cmd_compact)


# --- golden records -------------------------------------------------------------------

def cmd_golden(args, db) -> int:
    if args.golden_cmd == "refresh":
        result = pipeline.refresh_golden(db, args.actor, "golden", full=args.full)
        print(json.dumps(vars(result)) if args.json else
              f"golden records: {result.oneids} ({result.mode}, {result.rebuilt} rebuilt, {result.seconds:.2f} s)")
    elif args.golden_cmd == "rules":
        with db.cursor() as cur:
            frame = survivorship.rules_frame(cur)
        for r in frame.itertuples():
            print(f"{r.field}\t{r.kind}\tv{r.version}\t{','.join(r.priority) if r.kind == 'source_priority' else ''}")
    elif args.golden_cmd == "set-rule":
        priority = [c.strip() for c in args.priority.split(",")] if args.priority else None
        version, result = pipeline.set_survivorship_rule(db, args.actor, args.field, args.kind, priority, args.comment)
        print(f"{args.field}: version {version} ({args.kind}); {result.rebuilt} golden records rebuilt")
    elif args.golden_cmd == "override":
        override_id = pipeline.set_override(db, args.actor, args.oneid, args.field, args.value, args.reason)
        print(f"override {override_id}")
    elif args.golden_cmd == "remove-override":
        pipeline.remove_override(db, args.actor, args.override_id, args.reason)
        print(f"override {args.override_id} removed")
    elif args.golden_cmd == "overrides":
        with db.cursor() as cur:
            frame = overrides.active_overrides(cur, args.oneid)
        print(frame.drop(columns=["value"]).to_string(index=False))  # values are personal data
    return 0


CLI_WAIT_SECONDS = 300.0


def _say_waiting(holder: StoreHolder | None) -> None:
    who = holder.describe() if holder else "another process"
    print(f"waiting for the store: {who} is using it", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m governance", description="Steward customer-data governance CLI")
    parser.add_argument("--db", help="DuckDB file (default: $STEWARD_DB or data/steward.duckdb)")
    parser.add_argument("--wait", type=float, default=CLI_WAIT_SECONDS, metavar="SECONDS",
                        help=f"how long to wait while the app or another command uses the store "
                             f"(default {CLI_WAIT_SECONDS:.0f})")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_actor(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--actor", default=_default_actor(), help="who is acting, for the audit log")
        return p

    p = sub.add_parser("init", help="create the database, secrets, first admin and demo data")
    p.add_argument("--no-demo", action="store_true", help="do not load the demo workspace")
    p.set_defaults(func=cmd_init)

    p = with_actor(sub.add_parser("ingest", help="load files as new batches"))
    p.add_argument("files", nargs="+", metavar="FILE", help=f"one of: {', '.join(SUPPORTED)}")
    p.add_argument("--source", help="source name (default: the file name without extension)")
    p.add_argument("--channel", choices=sorted(CHANNELS), help="channel of a new source")
    p.add_argument("--mapping", default="auto", help="auto, or a JSON file {COLUMN: FIELD or null}")
    p.add_argument("--sheet", help="sheet of an .xlsx, .xlsm, .xls or .ods workbook (default: the first)")
    p.add_argument("--encoding", help="text encoding (default: detected)")
    p.add_argument("--force", action="store_true", help="load a file again even if it was loaded before")
    p.add_argument("--progress", action="store_true", help="print progress to stderr")
    p.set_defaults(func=cmd_ingest)

    p = with_actor(sub.add_parser("standardize", help="standardize every batch not yet standardized"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--progress", action="store_true")
    p.set_defaults(func=cmd_standardize)

    p = with_actor(sub.add_parser("profile", help="standardize what is stale, profile and score quality"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--progress", action="store_true")
    p.set_defaults(func=cmd_profile)

    p = sub.add_parser("rules", help="quality rules: list, add (or a new version), enable, disable")
    qsub = p.add_subparsers(dest="rules_cmd", required=True)
    q = qsub.add_parser("list", help="current rules; a custom rule the checks refuse is marked skipped")
    q.add_argument("--json", action="store_true")
    q = with_actor(qsub.add_parser("add", help="add a rule, or a new version of the rule with that name"))
    q.add_argument("--name", required=True, help="rule id: a-z, 0-9, '.', '_' or '-'")
    q.add_argument("--type", choices=rules.RULE_TYPES, required=True)
    q.add_argument("--field", action="append", default=[], help="standard field (repeatable)")
    q.add_argument("--expression", help="custom_sql: one expression over the record's columns, e.g. "
                                        "\"length(name) >= 2\"; regex: the pattern; allowed_values: a,b,c; "
                                        "consistency: the check")
    q.add_argument("--severity", choices=rules.SEVERITIES, default="warning")
    q.add_argument("--dimension", choices=rules.DIMENSIONS, default="validity")
    q.add_argument("--mostly", type=float, default=1.0, help="share of applicable records that must pass")
    q.add_argument("--comment")
    for name in ("enable", "disable"):
        q = with_actor(qsub.add_parser(name))
        q.add_argument("name", help="rule id")
        q.add_argument("--comment")
    p.set_defaults(func=cmd_rules)

    p = with_actor(sub.add_parser("resolve", help="match records (rules, Splink model, decisions) and assign stable OneIDs"))
    p.add_argument("--json", action="store_true")
    which = p.add_mutually_exclusive_group()  # one way to get the model
    which.add_argument("--no-model", action="store_true", help="rules and steward decisions only")
    which.add_argument("--model", help="a model JSON file to score with (default: the latest saved model)")
    which.add_argument("--retrain", action="store_true",
                       help="train a new model even when one is saved (a retrained model may move OneIDs)")
    p.add_argument("--auto-accept", type=float,
                   help="link pairs at or above this probability (default: the last run's, else 0.99)")
    p.add_argument("--review-low", type=float, help="queue pairs from this probability up (default: the last run's, else 0.60)")
    p.add_argument("--save-model", metavar="FILE.json", help="write the model this run scored with (for --model)")
    p.add_argument("--force", action="store_true", help="replace an existing --save-model file")
    p.add_argument("--full", action="store_true",
                   help="score every pair and link every record again (default: with the last run's model and thresholds, "
                        "only what changed); the pairs of unchanged records keep their last outcome, as in every run "
                        "with the same model (--retrain starts afresh)")
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="where pairs are scored (spark needs requirements-spark.txt and Java 17)")
    p.add_argument("--spark-master", metavar="URL", help="local[*] (default) or spark://host:7077")
    p.add_argument("--spark-conf", metavar="KEY=VALUE", action="append", help="a Spark setting; repeat for more")
    p.add_argument("--spark-scratch", metavar="DIR",
                   help="where records and scored pairs are exchanged as Parquet; on a cluster, a folder every executor "
                        "sees at the same path (default: a private temporary folder)")
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("review", help="steward decisions on record pairs (records as BATCH:ROW)")
    rsub = p.add_subparsers(dest="review_cmd", required=True)
    r = rsub.add_parser("list", help="the review queue, most impactful first")
    r.add_argument("--source")
    r.add_argument("--low", type=float, default=0.0)
    r.add_argument("--high", type=float, default=1.0)
    r.add_argument("--limit", type=_count, default=50)
    rsub.add_parser("decisions", help="the latest decisions, newest first").add_argument("--limit", type=_count, default=50)
    r = with_actor(rsub.add_parser("bulk", help="approve or reject every undecided queued pair in a probability band"))
    r.add_argument("decision", choices=("approve", "reject"))
    r.add_argument("--low", type=float, required=True)
    r.add_argument("--high", type=float, required=True)
    r.add_argument("--comment")
    r.add_argument("--dry-run", action="store_true", help="only show how many pairs and OneIDs it would change")
    r = with_actor(rsub.add_parser("thresholds", help="precision per probability band measured from the decisions, "
                                                      "and the thresholds that hold a precision target"))
    r.add_argument("--target", type=float, default=calibration.TARGET, help="precision the auto-accepted pairs must hold")
    r.add_argument("--min-labels", type=int, default=calibration.MIN_LABELS, help="decisions a band needs to count")
    r.add_argument("--apply", action="store_true", help="apply the recommendation (audited) and resolve again")
    r.add_argument("--json", action="store_true")
    for name in ("approve", "reject"):
        r = with_actor(rsub.add_parser(name))
        r.add_argument("left", help="BATCH:ROW")
        r.add_argument("right", help="BATCH:ROW")
        r.add_argument("--comment")
    p.set_defaults(func=cmd_review)

    _add_export_and_consent_parsers(sub, with_actor)

    p = sub.add_parser("sources", help="list sources")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("mapping", help="show or set a source's field mapping")
    msub = p.add_subparsers(dest="mapping_cmd", required=True)
    m = msub.add_parser("show")
    m.add_argument("source")
    m.add_argument("--explain", action="store_true", help="each column's field, confidence and basis, least certain first")
    m = with_actor(msub.add_parser("set"))
    m.add_argument("source")
    m.add_argument("file", help="JSON file {COLUMN: FIELD or null}")
    m.add_argument("--comment")
    p.set_defaults(func=cmd_mapping)

    p = sub.add_parser("users", help="manage users")
    usub = p.add_subparsers(dest="users_cmd", required=True)
    usub.add_parser("list")
    u = with_actor(usub.add_parser("add"))
    u.add_argument("username")
    u.add_argument("--role", choices=auth.ROLES, required=True)
    u.add_argument("--name")
    u.add_argument("--email")
    u.add_argument("--password-stdin", action="store_true", help="read the password from stdin (else one is generated)")
    u = with_actor(usub.add_parser("reset-password"))
    u.add_argument("username")
    u.add_argument("--password-stdin", action="store_true")
    u = with_actor(usub.add_parser("set-role"))
    u.add_argument("username")
    u.add_argument("role", choices=auth.ROLES)
    for name in ("disable", "enable", "unlock"):
        u = with_actor(usub.add_parser(name))
        u.add_argument("username")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("masking", help="show or change the masking policy (class × role)")
    msub = p.add_subparsers(dest="masking_cmd", required=True)
    msub.add_parser("show")
    m = with_actor(msub.add_parser("set"))
    m.add_argument("sensitivity_class", metavar="CLASS")
    m.add_argument("role", choices=auth.ROLES)
    m.add_argument("method", choices=["full", "partial", "hash", "hidden"])
    m.add_argument("--keep-start", type=int, help="characters kept at the start (partial; phones, IDs, channel ids)")
    m.add_argument("--keep-end", type=int, help="characters kept at the end")
    p.set_defaults(func=cmd_masking)

    p = with_actor(sub.add_parser("ropa", help="write the record of processing (xlsx, csv) or the PIPIA stub (md)"))
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true", help="replace the output file if it exists")
    p.add_argument("--format", choices=["xlsx", "csv", "md"], help="default: from the file extension, else xlsx")
    p.set_defaults(func=cmd_ropa)

    p = sub.add_parser("audit", help="audit log tools")
    asub = p.add_subparsers(dest="audit_cmd", required=True)
    a = asub.add_parser("verify", help="check the keyed hash chain and its anchor (exit 1 when broken)")
    a.add_argument("--reanchor", action="store_true",
                   help="accept the current head although the anchor does not fit (after restoring a backup); "
                        "only when every row verifies")
    p.set_defaults(func=cmd_audit)

    _add_dsr_parsers(sub, with_actor)
    # golden records
    p = sub.add_parser("golden", help="golden records: refresh, survivorship rules, steward overrides")
    gsub = p.add_subparsers(dest="golden_cmd", required=True)
    g = with_actor(gsub.add_parser("refresh", help="bring golden records and tags up to date (incremental unless --full)"))
    g.add_argument("--full", action="store_true")
    g.add_argument("--json", action="store_true")
    gsub.add_parser("rules", help="the active survivorship rule of every field")
    g = with_actor(gsub.add_parser("set-rule", help="store a new version of a field's rule and refresh"))
    g.add_argument("field")
    g.add_argument("kind", choices=["source_priority", "most_recent", "most_frequent", "most_complete", "aggregate"])
    g.add_argument("--priority", help="channels in trust order, comma-separated (e.g. crm,pos,tmall)")
    g.add_argument("--comment")
    g = with_actor(gsub.add_parser("override", help="set a golden field by hand (with a reason)"))
    g.add_argument("oneid")
    g.add_argument("field")
    g.add_argument("value")
    g.add_argument("--reason", required=True)
    g = with_actor(gsub.add_parser("remove-override"))
    g.add_argument("override_id", type=int)
    g.add_argument("--reason", required=True)
    g = gsub.add_parser("overrides", help="list active overrides (without their values)")
    g.add_argument("--oneid")
    p.set_defaults(func=cmd_golden)
    register_tag_commands(sub, with_actor)
    register_audience_commands(sub, with_actor)
    register_api_commands(sub, with_actor)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        db = open_database(args.db, activity=args.command, wait_seconds=args.wait, on_wait=_say_waiting)
        if args.command not in JOB_COMMANDS:
            return args.func(args, db)
        with jobs.record(db, args.command, args.actor, origin="cli") as job:  # the app's job panel lists it
            args.job_progress = job
            return args.func(args, db)
    except GovernanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # whatever was missed: one line for the user, the details in a private log
        folder = resolve_db_path(args.db).parent
        incident, log = getattr(exc, jobs.INCIDENT_ATTR, None), folder / INCIDENT_LOG  # a recorded job logged it
        if incident is None:
            incident, log = log_incident(exc, folder)
        print(f"error: an unexpected failure ({type(exc).__name__}), incident {incident}; the details are in {log}",
              file=sys.stderr)
        return 1
