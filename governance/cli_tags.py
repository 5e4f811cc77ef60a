"""Command line for tags: `python -m governance tags …` and `python -m governance scorecard`."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from governance import pipeline
from governance.access import auth
from governance.bootstrap import protected_files
from governance.exports import datasets
from governance.store.errors import GovernanceError
from governance.store.tabular import check_output
from governance.tags import definitions, library, scorecard, source_tags

WithActor = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def register(sub, with_actor: WithActor) -> None:
    """Add the `tags` and `scorecard` commands to the top-level subparsers."""
    p = sub.add_parser("tags", help="the tag library: definitions, approvals, values, source mappings")
    tsub = p.add_subparsers(dest="tags_cmd", required=True)
    _register_library(tsub, with_actor)
    _register_compute(tsub, with_actor)
    _register_source_tags(tsub, with_actor)
    _register_scorecard(sub, with_actor)


# ---- library: list, show, add, submit, approve, reject, deprecate, retire -------------------------

def _register_library(tsub, with_actor: WithActor) -> None:
    p = tsub.add_parser("list", help="the tags a role may see, one line each")
    p.add_argument("--json", action="store_true")
    p.add_argument("--role", choices=("admin", "steward", "analyst"), default="admin",
                   help="list what this role may see (default admin: everything)")
    p.set_defaults(func=cmd_tags_list)
    p = tsub.add_parser("show", help="one tag's definition (--json: a file `tags add --file` reads back)")
    p.add_argument("code")
    p.add_argument("--version", type=int, help="this version (default the newest)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tags_show)
    p = with_actor(tsub.add_parser("add", help="save a definition file as a new draft version "
                                               "(its status and version are ignored)"))
    p.add_argument("--file", required=True, metavar="DEF.json")
    p.add_argument("--reason", help="why it changes (needed for a new version of an existing tag)")
    p.set_defaults(func=cmd_tags_add)
    for name, what, needs_comment in (("submit", "send the newest draft to review", False),
                                      ("approve", "publish the version in review (not your own)", True),
                                      ("reject", "send the version in review back to draft (not your own)", True),
                                      ("deprecate", "mark the published tag deprecated", False),
                                      ("retire", "retire a published or deprecated tag no tag or audience uses", False)):
        p = with_actor(tsub.add_parser(name, help=what))
        p.add_argument("code")
        p.add_argument("--comment", required=needs_comment, help="what the reviewer says (kept with the review)")
        p.set_defaults(func=cmd_tags_step)
    p = tsub.add_parser("versions", help="a tag's versions: who saved each, when, why, and its status")
    p.add_argument("code")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tags_versions)
    p = tsub.add_parser("reviews", help="a tag's submissions, approvals, rejections and retirements")
    p.add_argument("code")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tags_reviews)
    p = tsub.add_parser("diff", help="what changed between two versions of a tag")
    p.add_argument("code")
    p.add_argument("old", type=int)
    p.add_argument("new", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tags_diff)


def _library_ready(db) -> None:
    """The default categories and built-in tags, for a store made before them."""
    with db.transaction() as cur:
        library.ensure_builtins(cur)


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def cmd_tags_list(args, db) -> int:
    _library_ready(db)
    with db.cursor() as cur:
        frame = library.tag_list(cur, args.role)
    _print_table(frame, args.json, "no tags")
    return 0


def cmd_tags_show(args, db) -> int:
    _library_ready(db)
    with db.cursor() as cur:
        tag = library.get(cur, args.code, args.version)
    if args.json:
        print(_dumps(tag.to_json()))
        return 0
    values = ", ".join(f"{a.code} ({a.zh} / {a.en})" for a in tag.allowed_values) or "-"
    print(f"{tag.code}  version {tag.version}  {tag.status}{'  built-in' if tag.builtin else ''}")
    for label, value in (("name", f"{tag.name_zh} / {tag.name_en}"), ("category", tag.category),
                         ("value type", tag.value_type), ("allowed values", values), ("owner", tag.owner),
                         ("sensitivity", tag.sensitivity), ("refresh", tag.refresh_cadence),
                         ("business", tag.business_definition or "-"),
                         ("technical", json.dumps(tag.technical, ensure_ascii=False)),
                         ("saved", f"{tag.created_by} at {tag.created_at:%Y-%m-%d %H:%M} UTC"
                                   f"{': ' + tag.reason if tag.reason else ''}")):
        print(f"  {label}: {value}")
    return 0


def cmd_tags_add(args, db) -> int:
    _library_ready(db)
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise definitions.TagError(f"Cannot read the tag definition file {args.file}: {exc}") from None
    except RecursionError:
        raise definitions.TagError(f"Cannot read the tag definition file {args.file}: it is nested too deeply.") from None
    result = library.save(db, args.actor, definitions.from_json(data), args.reason)
    print(f"{data.get('code')}: version {result.version} saved as a draft")
    for warning in result.warnings:
        print(f"warning: {warning}")
    return 0


def cmd_tags_step(args, db) -> int:
    _library_ready(db)
    step = pipeline.retire_tag if args.tags_cmd == "retire" else getattr(library, args.tags_cmd)
    version = step(db, args.actor, args.code, args.comment)
    done = {"submit": "submitted for review", "approve": "approved and published", "reject": "sent back to draft",
            "deprecate": "deprecated", "retire": "retired"}[args.tags_cmd]
    print(f"{args.code}: version {version} {done}")
    return 0


def _print_table(frame, as_json: bool, empty: str) -> None:
    if as_json:
        print(_dumps(frame.astype(object).where(frame.notna(), None).to_dict("records")))
    else:
        print(frame.to_string(index=False) if not frame.empty else empty)


def cmd_tags_versions(args, db) -> int:
    _library_ready(db)
    with db.cursor() as cur:
        frame = library.versions(cur, args.code)
    _print_table(frame, args.json, "no versions")
    return 0


def cmd_tags_reviews(args, db) -> int:
    _library_ready(db)
    with db.cursor() as cur:
        library.get(cur, args.code)
        frame = library.reviews(cur, args.code)
    _print_table(frame, args.json, "no reviews")
    return 0


def cmd_tags_diff(args, db) -> int:
    _library_ready(db)
    with db.cursor() as cur:
        changes = library.diff(cur, args.code, args.old, args.new)
    if args.json:
        print(_dumps(changes))
    elif not changes:
        print(f"{args.code}: versions {args.old} and {args.new} define the same tag")
    else:
        for change in changes:
            before, after = (_dumps(change[k]) if isinstance(change[k], dict | list) else change[k]
                             for k in ("before", "after"))
            print(f"{change['field']}:\n  - {before}\n  + {after}")
    return 0


# ---- compute and values -------------------------------------------------------------------------------

def _register_compute(tsub, with_actor: WithActor) -> None:
    p = with_actor(tsub.add_parser("compute", help="compute the published tags as of a date (China time), "
                                                   "for the OneIDs that changed unless --full"))
    p.add_argument("--as-of", dest="as_of", metavar="DATE", help="YYYY-MM-DD (default: today in China time)")
    p.add_argument("--full", action="store_true", help="recompute every OneID")
    p.add_argument("--tag", action="append", dest="codes", metavar="CODE", help="only this tag (repeatable)")
    p.set_defaults(func=cmd_tags_compute)
    p = with_actor(tsub.add_parser("values", help="write a tag's values to a CSV file (oneid, value, computed_at), "
                                                  "masked for the actor's role (an actor who is no user: as an analyst)"))
    p.add_argument("code")
    p.add_argument("--out", required=True, metavar="F.csv")
    p.add_argument("--force", action="store_true", help="replace the output file (and its manifest) if it exists")
    p.set_defaults(func=cmd_tags_values)


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise GovernanceError(f"--as-of takes a date such as 2026-03-31, not {text!r}.") from None


def cmd_tags_compute(args, db) -> int:
    result = pipeline.refresh_tags(db, args.actor, as_of=_as_of(args.as_of), full=args.full, codes=args.codes)
    print(f"computed {result.tags} tags as of {result.as_of} ({result.mode}) for {result.oneids} OneIDs: "
          f"{result.changed} values changed in {result.seconds:.1f}s")
    return 0


def cmd_tags_values(args, db) -> int:
    """A tag's values through the export rules (datasets' `tag_values`): masked for the actor's role."""
    out = Path(args.out)
    for path in (out, Path(f"{out}.manifest.json")):
        check_output(path, protected_files(db), args.force)
    with db.cursor() as cur:
        user = auth.get_user(cur, args.actor)
    role = user.role if user and not user.disabled else "analyst"
    request = datasets.ExportRequest("tag_values", args.actor, fields=("oneid", "value", "computed_at"),
                                     filter=datasets.ExportFilter(tags=(args.code,)), role=role)
    manifest = datasets.run_export(db, request, out)
    print(f"wrote {manifest.row_count} values of {args.code} to {out} (masked for {role}); manifest {out}.manifest.json")
    return 0


# ---- source tag mappings ------------------------------------------------------------------------------

def _register_source_tags(tsub, with_actor: WithActor) -> None:
    p = with_actor(tsub.add_parser("map-source", help="map a source column's own values onto a standard tag "
                                                      "(a new version of that column's mapping)"))
    p.add_argument("source")
    p.add_argument("column", help="the column's header as in the source's files")
    p.add_argument("--file", required=True, metavar="VALUES.json",
                   help='{"tag": CODE, "values": {SOURCE_VALUE: TAG_VALUE}} or, for a column feeding several tags, '
                        '{"values": {SOURCE_VALUE: {"tag": CODE, "value": TAG_VALUE}}}; null maps to nothing')
    p.add_argument("--tag", help="the tag the values map to (instead of the file's \"tag\")")
    p.set_defaults(func=cmd_map_source)
    p = tsub.add_parser("unmapped", help="source tag values no mapping covers, with how many records carry them")
    p.add_argument("--tag", help="only the columns feeding this tag")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_unmapped)
    p = tsub.add_parser("mappings", help="the active source tag mappings")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_mappings)


def _values_file(name: str, tag: str | None) -> tuple[dict, str | None]:
    """The values and tag of a map-source file, or one line saying why not."""
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise definitions.TagError(f"Cannot read the values file {name}: {exc}") from None
    except RecursionError:
        raise definitions.TagError(f"Cannot read the values file {name}: it is nested too deeply.") from None
    if not isinstance(data, dict):
        raise definitions.TagError("The values file holds one JSON object: "
                                   "{\"tag\": CODE, \"values\": {SOURCE_VALUE: TAG_VALUE}}.")
    if isinstance(data.get("values"), dict):
        named = data.get("tag")
        if tag and named and named != tag:
            raise definitions.TagError(f"The file maps to the tag {named!r} but --tag says {tag!r}.")
        return data["values"], tag or named
    return data, tag


def _print_frame(frame, as_json: bool) -> None:
    if as_json:
        print(json.dumps(frame.to_dict("records"), ensure_ascii=False, indent=2, default=str))
        return
    for row in frame.itertuples(index=False):
        print("\t".join("" if v is None else str(v) for v in row))


def cmd_map_source(args, db) -> int:
    values, tag = _values_file(args.file, args.tag)
    version = source_tags.set_mapping(db, args.actor, args.source, args.column, values, tag)
    print(f"{args.source} / {args.column}: tag mapping version {version}")
    return 0


def cmd_unmapped(args, db) -> int:
    with db.cursor() as cur:
        frame = source_tags.unmapped_values(cur, args.tag)
    _print_frame(frame, args.json)
    return 0


def cmd_mappings(args, db) -> int:
    with db.cursor() as cur:
        frame = source_tags.mappings(cur)
    _print_frame(frame, args.json)
    return 0


# ---- scorecard ----------------------------------------------------------------------------------------

def _register_scorecard(sub, with_actor: WithActor) -> None:
    p = sub.add_parser("scorecard", help="the governance scorecard: the measures now and after each refresh")
    p.add_argument("--json", action="store_true", help="the measures now and each measure's history by refresh")
    p.set_defaults(func=cmd_scorecard)


def _rate(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def cmd_scorecard(args, db) -> int:
    with db.cursor() as cur:
        report = scorecard.as_json(cur)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    score = report["quality_score"]
    print(f"records {report['records']:,}  OneIDs {report['oneids']:,}")
    print(f"duplicate rate {_rate(report['duplicate_rate'])}  identification rate "
          f"{_rate(report['identification_rate'])}  quality score {'-' if score is None else f'{score:.1f}'}  "
          f"tag coverage {_rate(report['tag_coverage'])}  consent coverage {_rate(report['consent_coverage'])}")
    if not report["refreshes"]:
        print("no refresh recorded yet")
        return 0
    print("recorded_at\ttrigger\trecords\toneids\tduplicate\tidentified\tquality\ttags\tconsent")
    for r in report["refreshes"]:
        quality = "-" if r["quality_score"] is None else f"{r['quality_score']:.1f}"
        print(f"{r['recorded_at']}\t{r['trigger']}\t{r['records']}\t{r['oneids']}\t{_rate(r['duplicate_rate'])}\t"
              f"{_rate(r['identification_rate'])}\t{quality}\t{_rate(r['tag_coverage'])}\t"
              f"{_rate(r['consent_coverage'])}")
    return 0
