"""The Audiences page's sections: the rule builder (nested groups, and the rule's JSON for power users),
purpose and channel, the live count with who is left out and why, a masked sample and breakdowns,
saved audiences (versions, membership history, snapshots, overlap) and activation (files, pushes).

The count runs again on every change of the rule, purpose or channel; the sample, the breakdowns and
the overlap run on request and are kept for the same rule, purpose and channel within the session.
Every change goes through governance.audiences, which checks the role again and audits it. Activation
files and pushes run as background jobs (governance.jobs.kinds): the page follows the user's latest one,
and offers a finished file for download to that user only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from governance.audiences import activation, library, members, push, rules
from governance.audiences.rules import AudienceError
from governance.exports import datasets
from governance.i18n import column_choice, value_label
from governance.jobs import kinds as job_kinds
from governance.jobs.runner import Job
from governance.privacy import consent
from governance.tags import library as tag_library
from governance.tags.definitions import AGE_BANDS, TagDefinition
from governance.ui import charts
from governance.ui import jobs as ui_jobs
from governance.ui import rule_builder as rb
from governance.ui.actions import form_done, kept_form, run_step
from governance.ui.error_texts import translate
from governance.ui.guard import PageContext
from governance.ui.widgets import plain, table

SAMPLE_ROWS = 10
GROUP_DEPTH = 3  # nested groups the builder opens below the top level (deeper rules: the JSON editor)
STARTER_RULE = {"field": "province", "is_null": False}  # the JSON editor's text when the builder has no rule yet
SAVE_FORM = "aud_save_form"
SAVE_FIELDS = ("aud_save_name", "aud_save_description", "aud_save_reason")


@dataclass(frozen=True)
class Draft:
    """The rule being built, with the purpose and channel it is counted for."""
    rule: dict[str, Any]
    purpose: str
    channel: str
    app_id: str | None = None

    @property
    def signature(self) -> str:
        return json.dumps([self.rule, self.purpose, self.channel, self.app_id], ensure_ascii=False, sort_keys=True)


# ---- labels -------------------------------------------------------------------------------------

def channel_name(ctx: PageContext, channel: str) -> str:
    return rb.code_label(ctx, "audiences.channel.", channel)


def kind_name(ctx: PageContext, kind: str) -> str:
    return rb.code_label(ctx, "audiences.kind.", kind)


def purpose_name(ctx: PageContext, purpose: str) -> str:
    return rb.code_label(ctx, "consent.purpose_", purpose)


def _sep(ctx: PageContext) -> str:
    return "、" if ctx.lang == "zh" else ", "


def excluded_words(ctx: PageContext, excluded: object) -> str:
    """A snapshot's exclusion counts (JSON) as words: 'no consent 3, withdrawn 1, …'."""
    try:
        data = json.loads(excluded) if isinstance(excluded, str) else excluded
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    return _sep(ctx).join(f"{ctx.t(f'audiences.exclusion_short.{r}')} {int(data.get(r) or 0):,}"
                          for r in members.EXCLUSIONS)


# ---- what the builder reads ---------------------------------------------------------------------

def usable_tags(ctx: PageContext, cur) -> dict[str, TagDefinition]:
    """The computed (published or deprecated) tags the role may view, by code, as they are computed."""
    return tag_library.viewable_computed(cur, ctx.user.role)


# ---- the builder and its JSON -------------------------------------------------------------------

def _prefix() -> str:
    return f"aud_rule{int(st.session_state.get('aud_gen', 0))}"


def load_rule(rule: Any, usable: frozenset[str]) -> None:
    """Show `rule` in a fresh builder, or in the JSON editor when the builder cannot show it (deeper
    nesting, a tag this role cannot use). Runs in a widget callback, before the page."""
    gen = int(st.session_state.get("aud_gen", 0)) + 1
    st.session_state["aud_gen"] = gen
    fits = set(rules.references(rule)["tags"]) <= usable and rb.seed_rule(f"aud_rule{gen}", rule, GROUP_DEPTH)
    st.session_state["aud_json_mode"] = not fits
    st.session_state["aud_json_text"] = json.dumps(rule, ensure_ascii=False, indent=2)


def _json_toggled(usable: frozenset[str]) -> None:
    """Into the JSON editor: it starts from the builder's rule. Back to the builder: the edited rule is
    shown there when it is valid and fits; otherwise the editor stays, with a note."""
    if st.session_state.get("aud_json_mode"):
        rule = st.session_state.get("aud_last_rule") or STARTER_RULE
        st.session_state["aud_json_text"] = json.dumps(rule, ensure_ascii=False, indent=2)
        return
    try:
        rule = rules.parse(st.session_state.get("aud_json_text") or "")
    except AudienceError:
        st.session_state["aud_json_mode"] = True
        st.session_state["aud_json_note"] = "audiences.json_fix_first"
        return
    load_rule(rule, usable)
    if st.session_state["aud_json_mode"]:
        st.session_state["aud_json_note"] = "audiences.json_not_in_builder"


def checked_rule(ctx: PageContext, rule: Any, tags: dict[str, TagDefinition]) -> dict | None:
    """The rule if it has the documented shape and reads only tags the role may use; else a one-line
    error and None."""
    try:
        rules.check_rule(rule)
    except AudienceError as exc:
        st.error(ctx.t("audiences.bad_rule", message=translate(str(exc), ctx.lang)))
        return None
    hidden = [code for code in rules.references(rule)["tags"] if code not in tags]
    if hidden:
        st.error(ctx.t("audiences.hidden_tags", codes=_sep(ctx).join(hidden)))
        return None
    return rule


def parsed_rule(ctx: PageContext, text: str, tags: dict[str, TagDefinition]) -> dict | None:
    """The JSON editor's rule, or None with a one-line error."""
    try:
        rule = json.loads(text)
    except json.JSONDecodeError as exc:
        st.error(ctx.t("audiences.bad_json", line=exc.lineno, column=exc.colno))
        return None
    except (ValueError, RecursionError):
        st.error(ctx.t("audiences.bad_json_deep"))
        return None
    return checked_rule(ctx, rule, tags)


def targeting(ctx: PageContext, apps: list[str]) -> tuple[str, str, str | None]:
    """The purpose (its consent applies) and the channel (a usable contact is needed) of the count."""
    c1, c2, c3 = st.columns(3)
    purpose = c1.selectbox(ctx.t("audiences.purpose"), consent.PURPOSES, key="aud_purpose",
                           format_func=lambda p: purpose_name(ctx, p))
    channel = c2.selectbox(ctx.t("audiences.channel"), members.CHANNELS, key="aud_channel",
                           format_func=lambda c: channel_name(ctx, c))
    app_id = None
    if channel == "wechat" and len(apps) > 1:  # open_ids are per app: count those of one app, or any
        app_id = c3.selectbox(ctx.t("audiences.app_id"), ["", *apps], key="aud_app_id",
                              format_func=lambda a: a or ctx.t("audiences.any_app")) or None
    return purpose, channel, app_id


def build(ctx: PageContext) -> Draft | None:
    """Purpose and channel, then the rule: the visual builder or its JSON. Returns the draft when the
    rule is complete and valid."""
    with ctx.db.cursor() as cur:
        tags = usable_tags(ctx, cur)
        saved = [a.name for a in library.list_audiences(cur)]
        apps = activation.wechat_apps(cur)
    purpose, channel, app_id = targeting(ctx, apps)
    note = st.session_state.pop("aud_json_note", None)
    json_mode = st.toggle(ctx.t("audiences.json_mode"), key="aud_json_mode", on_change=_json_toggled,
                          args=(frozenset(tags),))
    if note:
        st.warning(ctx.t(note))
    rule: dict | None
    if json_mode:
        st.caption(ctx.t("audiences.json_help"))
        rule = parsed_rule(ctx, st.text_area(ctx.t("audiences.json"), key="aud_json_text", height=220), tags)
    else:
        built = rb.condition_builder(ctx, _prefix(), tags, rb.AUDIENCE_FIELDS, {n: n for n in saved}, GROUP_DEPTH)
        if built is None:
            st.info(ctx.t("tags.builder.incomplete"))
            rule = None
        else:
            rule = checked_rule(ctx, built, tags)
            st.session_state["aud_last_rule"] = rule
    if rule is None:
        return None
    st.caption(ctx.t("tags.builder.reads", rule=rb.condition_words(ctx, rule, tags)))
    if not json_mode and st.toggle(ctx.t("audiences.show_json"), key="aud_show_json"):
        st.code(json.dumps(rule, ensure_ascii=False, indent=2), language="json")
    return Draft(rule, purpose, channel, app_id)


# ---- the count, sample and breakdowns -----------------------------------------------------------

def exclusions_frame(ctx: PageContext, found: members.Count) -> pd.DataFrame:
    return pd.DataFrame({"exclusion": [ctx.t(f"audiences.exclusion.{r}") for r in members.EXCLUSIONS],
                         "people": [int(found.excluded.get(r, 0)) for r in members.EXCLUSIONS]})


def live_count(ctx: PageContext, draft: Draft) -> members.Count | None:
    """How many people the rule reaches, and who the mandatory exclusions leave out, and why."""
    with ctx.db.cursor() as cur:
        found = run_step(members.count, cur, draft.rule, draft.purpose, draft.channel, draft.app_id)
    if found is None:
        return None
    c1, c2 = st.columns([1, 2])
    c1.metric(ctx.t("audiences.members"), f"{found.members:,}")
    with c2:
        st.markdown(f"**{ctx.t('audiences.left_out')}**")
        table(exclusions_frame(ctx, found), labels={"exclusion": ctx.t("audiences.col.exclusion"),
                                                    "people": ctx.t("audiences.col.people")}, key="aud_exclusions")
        st.caption(ctx.t("audiences.exclusions_fixed"))
    return found


def _explored(draft: Draft) -> dict[str, Any]:
    """The sample and breakdowns already computed for this draft in this session."""
    cache = st.session_state.setdefault("aud_explore", {})
    if cache.get("signature") != draft.signature:
        cache.clear()
        cache["signature"] = draft.signature
    return cache


def sample_frame(ctx: PageContext, sample: pd.DataFrame) -> pd.DataFrame:
    """The masked sample as shown: genders as words (the library masked the personal values already)."""
    genders = {g: ctx.t(f"files.gender.{g}") for g in ("0", "1", "2", "9")}
    return sample.assign(gender=sample["gender"].map(lambda g: genders.get(g, g) if isinstance(g, str) else g))


def breakdown_labels(ctx: PageContext, by: str, values: pd.Series) -> list[str]:
    ages = {a.code: (a.zh if ctx.lang == "zh" else a.en) for a in AGE_BANDS}
    out = []
    for value in values:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
            out.append(ctx.t("audiences.unknown"))
        elif by == "channel":
            out.append(str(value_label("channel", value, ctx.lang)))
        elif by == "age_band":
            out.append(ages.get(str(value), str(value)))
        else:
            out.append(str(value))
    return out


def explore(ctx: PageContext, draft: Draft) -> None:
    """A masked sample and breakdowns by province, age band and channel, on request."""
    cache = _explored(draft)
    c1, c2, _ = st.columns([1, 1, 2])
    if c1.button(ctx.t("audiences.sample_button", n=SAMPLE_ROWS), key="aud_sample_button"):
        with ctx.db.cursor() as cur:
            cache["sample"] = run_step(library.sample, cur, draft.rule, draft.purpose, draft.channel, ctx.user.role,
                                       SAMPLE_ROWS, app_id=draft.app_id)
    if c2.button(ctx.t("audiences.breakdown_button"), key="aud_breakdown_button"):
        with ctx.db.cursor() as cur:
            found = {by: run_step(library.breakdown, cur, draft.rule, draft.purpose, draft.channel, by,
                                  app_id=draft.app_id) for by in library.BREAKDOWNS}
        cache["breakdown"] = {by: f for by, f in found.items() if f is not None}
    sample = cache.get("sample")
    if sample is not None:
        st.markdown(f"**{ctx.t('audiences.sample', n=SAMPLE_ROWS)}**")
        if sample.empty:
            st.caption(ctx.t("audiences.sample_none"))
        else:
            table(sample_frame(ctx, sample), key="aud_sample_table")
    breakdown = cache.get("breakdown")
    if breakdown:
        cols = st.columns(len(breakdown))
        for col, (by, frame) in zip(cols, breakdown.items()):
            shown = frame.assign(label=breakdown_labels(ctx, by, frame["value"]))
            col.plotly_chart(charts.audience_bars(shown, ctx.t(f"audiences.breakdown.{by}"),
                                                  ctx.t("audiences.hover_members")),
                             width="stretch", key=f"aud_breakdown_{by}")


def save_form(ctx: PageContext, draft: Draft | None) -> None:
    """Save the draft as a new audience, or as a new version of one with the same name (with a reason).
    Drawn also while the rule is incomplete (`draft` None), so what was typed here is kept."""
    st.subheader(ctx.t("audiences.save_title"))
    st.caption(ctx.t("audiences.save_help"))
    with kept_form(SAVE_FORM, SAVE_FIELDS):
        c1, c2 = st.columns(2)
        name = c1.text_input(ctx.t("audiences.name"), key="aud_save_name", help=ctx.t("audiences.name_help"))
        kind = c2.radio(ctx.t("audiences.kind"), library.KINDS, key="aud_save_kind", horizontal=True,
                        format_func=lambda k: kind_name(ctx, k))
        description = st.text_input(ctx.t("audiences.description"), key="aud_save_description")
        reason = st.text_input(ctx.t("audiences.reason"), key="aud_save_reason")
        submitted = st.form_submit_button(ctx.t("audiences.save"), type="primary")
    if not submitted:
        return
    if draft is None:
        st.error(ctx.t("tags.builder.incomplete"))
        return
    if not name.strip():
        st.error(ctx.t("audiences.name_needed"))
        return
    version = run_step(library.save, ctx.db, ctx.user.username, name.strip(), draft.rule, draft.purpose, kind=kind,
                       channel=draft.channel, description=description, reason=reason, spinner=ctx.t("audiences.saving"))
    if version is not None:
        form_done(SAVE_FORM, ctx.t("audiences.saved", name=name.strip(), version=version))


# ---- saved audiences ----------------------------------------------------------------------------

def _list_frame(ctx: PageContext, audiences: list[library.Audience]) -> pd.DataFrame:
    return pd.DataFrame({
        "audience": [a.name for a in audiences], "owner": [a.owner for a in audiences],
        "purpose": [a.purpose for a in audiences], "audience_kind": [kind_name(ctx, a.kind) for a in audiences],
        "audience_channel": [channel_name(ctx, a.channel) for a in audiences],
        "version": [a.version for a in audiences],
        "members": [a.members for a in audiences], "refreshed_at": [a.refreshed_at for a in audiences]})


LIST_LABELS = ("audience", "owner", "audience_kind", "audience_channel", "members", "refreshed_at", "rule_words",
               "reason_text", "snapshot_id", "taken_by", "taken_at", "excluded", "day", "joined", "left", "exclusion",
               "people", "a", "b", "a_count", "b_count", "both", "jaccard", "destination", "activation_status",
               "attempt", "attempted_at", "status_code", "delivered")


def labels(ctx: PageContext) -> dict[str, str]:
    """Headers of the page's own columns."""
    return {c: ctx.t(f"audiences.col.{c}") for c in LIST_LABELS}


def saved_list(ctx: PageContext) -> library.Audience | None:
    """The saved audiences; returns the one picked."""
    with ctx.db.cursor() as cur:
        audiences = library.list_audiences(cur)
    if not audiences:
        st.info(ctx.t("audiences.none"))
        return None
    table(_list_frame(ctx, audiences), labels=labels(ctx), key="aud_list")
    by_name = {a.name: a for a in audiences}
    name = st.selectbox(ctx.t("audiences.pick"), list(by_name), key="aud_pick")
    return by_name.get(name) if name else None


def saved_detail(ctx: PageContext, audience: library.Audience) -> None:
    """One saved audience: its rule in words, actions, versions, membership history and snapshots."""
    with ctx.db.cursor() as cur:
        tags = usable_tags(ctx, cur)
        versions = library.versions(cur, audience.name)
        history = library.movements(cur, audience.name) if audience.kind == "dynamic" else None
        snapshots = library.snapshots(cur, audience.name)
    st.subheader(audience.name)
    c = st.columns(4)
    c[0].metric(ctx.t("audiences.col.version"), audience.version)
    c[1].metric(ctx.t("audiences.col.audience_kind"), kind_name(ctx, audience.kind))
    c[2].metric(ctx.t("audiences.purpose"), purpose_name(ctx, audience.purpose))
    c[3].metric(ctx.t("audiences.col.members"), "—" if audience.members is None else f"{audience.members:,}")
    lines = [ctx.t("audiences.owner_is", owner=audience.owner),
             ctx.t("audiences.channel_is", channel=channel_name(ctx, audience.channel)),
             ctx.t("tags.builder.reads", rule=rb.condition_words(ctx, audience.rule, tags))]
    if audience.description:
        lines.insert(0, plain(audience.description))
    st.markdown("  \n".join(lines))
    if st.toggle(ctx.t("audiences.show_json"), key=f"aud_saved_json_{audience.name}"):
        st.code(json.dumps(audience.rule, ensure_ascii=False, indent=2), language="json")
    if ctx.can("audiences.edit"):
        c1, c2, _ = st.columns([1, 1, 2])
        c1.button(ctx.t("audiences.open_in_builder"), key=f"aud_open_{audience.name}", on_click=open_in_builder,
                  args=(audience, frozenset(tags)), help=ctx.t("audiences.open_help"))
        if c2.button(ctx.t("audiences.snapshot"), key=f"aud_snapshot_{audience.name}"):
            run_step(library.snapshot, ctx.db, ctx.user.username, audience.name,
                     success=lambda sid: ctx.t("audiences.snapshot_taken", name=audience.name, id=sid),
                     rerun=True, flash=True)
    st.markdown(f"**{ctx.t('audiences.versions')}**")
    table(pd.DataFrame({
        "version": versions["version"], "audience_kind": versions["kind"].map(lambda k: kind_name(ctx, k)),
        "purpose": versions["purpose"], "audience_channel": versions["channel"].map(lambda c: channel_name(ctx, c)),
        "rule_words": [rb.condition_words(ctx, json.loads(r) if isinstance(r, str) else r, tags) for r in versions["rule"]],
        "created_by": versions["created_by"], "created_at": versions["created_at"],
        "reason_text": versions["reason"].fillna("")}), labels=labels(ctx), key="aud_versions")
    if history is not None:
        st.markdown(f"**{ctx.t('audiences.history')}**")
        if history.empty:
            st.caption(ctx.t("audiences.history_none"))
        else:
            joined, left = int(history["joined"].sum()), int(history["left"].sum())
            st.caption(ctx.t("audiences.history_totals", joined=f"{joined:,}", left=f"{left:,}",
                             current=f"{joined - left:,}"))
            table(history, labels=labels(ctx), key="aud_history")
    st.markdown(f"**{ctx.t('audiences.snapshots')}**")
    if snapshots.empty:
        st.caption(ctx.t("audiences.snapshots_none"))
    else:
        table(pd.DataFrame({
            "snapshot_id": snapshots["snapshot_id"], "version": snapshots["version"], "taken_by": snapshots["taken_by"],
            "taken_at": snapshots["taken_at"], "members": snapshots["members"],
            "excluded": snapshots["excluded"].map(lambda e: excluded_words(ctx, e)),
            "checksum": snapshots["checksum"]}), labels=labels(ctx), key="aud_snapshots")


def open_in_builder(audience: library.Audience, usable: frozenset[str]) -> None:
    """Load a saved audience into the builder, ready to save as its next version (a widget callback)."""
    load_rule(audience.rule, usable)
    st.session_state["aud_purpose"] = audience.purpose
    st.session_state["aud_channel"] = audience.channel
    st.session_state["aud_save_name"] = audience.name
    st.session_state["aud_save_kind"] = audience.kind
    st.session_state["aud_save_description"] = audience.description or ""
    st.session_state["aud_opened"] = audience.name


def opened_note(ctx: PageContext) -> None:
    name = st.session_state.pop("aud_opened", None)
    if name:
        st.info(ctx.t("audiences.opened", name=name))


def overlap(ctx: PageContext) -> None:
    """Pairwise overlap of chosen saved audiences: a heatmap (Jaccard) and the counts."""
    with ctx.db.cursor() as cur:
        names = [a.name for a in library.list_audiences(cur)]
    if len(names) < 2:
        return
    st.subheader(ctx.t("audiences.overlap"))
    chosen = st.multiselect(ctx.t("audiences.overlap_pick"), names, key="aud_overlap_pick",
                            placeholder=ctx.t("common.choose_many"))
    if st.button(ctx.t("audiences.overlap_button"), key="aud_overlap_button", disabled=len(chosen) < 2):
        with ctx.db.cursor() as cur:
            frame = run_step(library.overlap, cur, chosen)
        if frame is not None:
            st.session_state["aud_overlap"] = (tuple(chosen), frame)
    kept = st.session_state.get("aud_overlap")
    if not kept or list(kept[0]) != list(chosen):
        return
    frame = kept[1]
    st.plotly_chart(charts.audience_overlap(frame, ctx.t("audiences.overlap_chart"), ctx.t("audiences.col.jaccard"),
                                            ctx.t("audiences.hover_overlap")), width="stretch", key="aud_overlap_chart")
    order = {n: i for i, n in enumerate(kept[0])}
    pairs = frame[[order[a] < order[b] for a, b in zip(frame["a"], frame["b"])]].reset_index(drop=True)
    table(pairs, labels=labels(ctx), key="aud_overlap_table",
          column_config={"jaccard": st.column_config.NumberColumn(ctx.t("audiences.col.jaccard"), format="%.3f")})


# ---- activation ---------------------------------------------------------------------------------

def _latest(ctx: PageContext, kind: str, active: bool = False) -> Job | None:
    """This user's newest job of `kind` (an activation file or a push)."""
    return job_kinds.latest_of(ctx.db, kind, ctx.user.username, active=active)


def _activation_options(ctx: PageContext, channel: str, apps: list[str]) -> dict[str, Any]:
    """What the channel's file needs beside the audience and purpose: a hash, an app id, fields."""
    options: dict[str, Any] = {"hash": "sha256", "app_id": None, "masked": True, "fields": ()}
    if channel in activation.HASHED:
        options["hash"] = st.radio(ctx.t("audiences.hash"), activation.HASHES, index=1, key="aud_act_hash",
                                   horizontal=True, format_func=lambda h: ctx.t(f"audiences.hash.{h}"))
    elif channel == "wechat":
        st.caption(ctx.t("audiences.wechat_help"))
        if apps:
            options["app_id"] = st.selectbox(ctx.t("audiences.app_id"), ["", *apps], key="aud_act_app",
                                             format_func=lambda a: a or ctx.t("audiences.union_id")) or None
    elif channel in ("csv", "xlsx"):
        available = datasets.columns("golden")
        options["fields"] = tuple(st.multiselect(ctx.t("audiences.fields"), available, key="aud_act_fields",
                                                 format_func=lambda c: column_choice(c, ctx.lang),
                                                 placeholder=ctx.t("audiences.fields_all")))
        if ctx.can("pii.unmasked"):
            options["masked"] = not st.toggle(ctx.t("audiences.unmasked"), key="aud_act_unmasked")
    return options


def refusal(ctx: PageContext, channel: str, purpose: str, masked: bool = True) -> str | None:
    """Why the library would refuse this file (activation.check_request), in the UI language with the
    channel and purpose as labels; None when it is allowed."""
    if activation.needs_marketing(channel) and purpose != "marketing":
        return ctx.t("audiences.needs_marketing", channel=channel_name(ctx, channel), purpose=purpose_name(ctx, purpose))
    if activation.carries_identifiers(channel, masked) and not ctx.can("pii.unmasked"):
        return ctx.t("audiences.needs_unmasked", channel=channel_name(ctx, channel))
    return None


def activate(ctx: PageContext) -> None:
    """Write an audience's file for a channel and purpose, offer it for download, or push it. Both run
    as background jobs: the page follows this user's latest one and shows its outcome once done."""
    with ctx.db.cursor() as cur:
        audiences = library.list_audiences(cur)
        apps = activation.wechat_apps(cur)
        destinations = push.list_destinations(cur) if ctx.can("audiences.push") else None
    st.caption(ctx.t("audiences.activate_help"))
    if not audiences:
        st.info(ctx.t("audiences.none"))
        return
    by_name = {a.name: a for a in audiences}
    c1, c2, c3 = st.columns(3)
    name = c1.selectbox(ctx.t("audiences.pick"), list(by_name), key="aud_act_name")
    audience = by_name[name]
    channel = c2.selectbox(ctx.t("audiences.channel"), activation.CHANNELS, key=f"aud_act_channel_{name}",
                           index=activation.CHANNELS.index(audience.channel), format_func=lambda c: channel_name(ctx, c))
    purpose = c3.selectbox(ctx.t("audiences.purpose"), consent.PURPOSES, key=f"aud_act_purpose_{name}",
                           index=consent.PURPOSES.index(audience.purpose) if audience.purpose in consent.PURPOSES else 0,
                           format_func=lambda p: purpose_name(ctx, p))
    options = _activation_options(ctx, channel, apps)
    st.caption(ctx.t("audiences.activation_rules"))
    refused = refusal(ctx, channel, purpose, options["masked"])
    if refused:  # said before a click, with labels, rather than as the library's English refusal
        st.warning(refused)
    writing = _latest(ctx, "audience_export", active=True) is not None
    if st.button(ctx.t("audiences.export_button"), key="aud_export_button", type="primary",
                 disabled=writing or refused is not None):
        if run_step(job_kinds.audience_export, ctx.db, ctx.user.username, ctx.user.role, name, channel, purpose,
                    app_id=options["app_id"], hash=options["hash"], masked=options["masked"],
                    fields=options["fields"]) is not None:
            st.rerun()  # the progress below and the job panel show it from the next run on
    if writing:
        with st.status(ctx.t("audiences.exporting"), state="running"):
            st.caption(ctx.t("audiences.export_in_background"))
    finished = ui_jobs.follow(lambda: _latest(ctx, "audience_export"))
    # the file is found from the job's row, for the user who started it only, never from the client
    path = job_kinds.result_file(ctx.db, finished, ctx.user.username, ctx.user.role)
    if finished is not None and path is not None:
        st.success(ctx.t("audiences.file_ready", file=path.name, rows=f"{int(finished.result.get('rows') or 0):,}"))
        # a callable: the file is read only when the user clicks, never kept in the session
        st.download_button(ctx.t("audiences.download"), data=path.read_bytes, file_name=path.name,
                           mime=push.MIME.get(path.suffix.lstrip("."), "application/octet-stream"), on_click="ignore",
                           key="aud_download")
    if destinations is not None:
        push_section(ctx, name, channel, purpose, options, destinations, refused=refused is not None)
    with ctx.db.cursor() as cur:
        recent = activation.activations(cur, name, limit=20)
    if not recent.empty:
        st.markdown(f"**{ctx.t('audiences.recent_files')}**")
        table(pd.DataFrame({
            "created_at": recent["created_at"], "actor": recent["actor"], "version": recent["audience_version"],
            "audience_channel": recent["channel"].map(lambda c: channel_name(ctx, c)), "purpose": recent["purpose"],
            "file_name": recent["file_name"], "row_count": recent["row_count"], "masked": recent["masked"],
            "destination": recent["destination"].fillna(""),
            "activation_status": recent["status"].map(lambda s: rb.code_label(ctx, "audiences.status.", s)),
            "checksum": recent["checksum"]}), labels=labels(ctx), key="aud_recent")


def push_section(ctx: PageContext, name: str, channel: str, purpose: str, options: dict[str, Any],
                 destinations: pd.DataFrame, refused: bool = False) -> None:
    """Send the same file to an admin-configured destination; the outcome and every attempt. `refused`:
    the file cannot be written as chosen (the reason is shown above)."""
    st.subheader(ctx.t("audiences.push_title"))
    enabled = destinations[destinations["enabled"].astype(bool)] if not destinations.empty else destinations
    if enabled.empty:
        st.info(ctx.t("audiences.no_destinations"))
        return
    kinds = dict(zip(enabled["name"], enabled["kind"]))
    destination = st.selectbox(ctx.t("audiences.destination"), list(kinds), key="aud_push_destination",
                               format_func=lambda d: f"{d} · {rb.code_label(ctx, 'audiences.destination.', kinds[d])}")
    pushing = _latest(ctx, "audience_push", active=True) is not None
    if st.button(ctx.t("audiences.push_button"), key="aud_push_button", disabled=pushing or refused):
        if run_step(job_kinds.audience_push, ctx.db, ctx.user.username, ctx.user.role, name, destination,
                    channel=channel, purpose=purpose, app_id=options["app_id"], hash=options["hash"]) is not None:
            st.rerun()
    if pushing:
        with st.status(ctx.t("audiences.pushing"), state="running"):
            st.caption(ctx.t("audiences.push_in_background"))
    done = ui_jobs.follow(lambda: _latest(ctx, "audience_push"))
    outcome = done.result if done is not None else {}
    if "activation_id" not in outcome:
        return
    status = outcome.get("status_code")
    if outcome.get("ok"):
        st.success(ctx.t("audiences.pushed", destination=outcome.get("destination"),
                         rows=f"{int(outcome.get('rows') or 0):,}", attempts=outcome.get("attempts")))
    else:
        st.error(ctx.t("audiences.push_failed", destination=outcome.get("destination"), attempts=outcome.get("attempts"),
                       status=status if status is not None else "—"))
    with ctx.db.cursor() as cur:
        attempts = push.deliveries(cur, int(outcome["activation_id"]))
    table(attempts.rename(columns={"ok": "delivered"}), labels=labels(ctx), key="aud_deliveries")
