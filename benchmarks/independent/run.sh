#!/usr/bin/env bash
# usage: benchmarks/independent/run.sh RUNDIR DATADIR
# Drives the Steward CLI like a steward would, on a fresh store in RUNDIR.
set -u
RUNDIR=$(realpath -m "$1"); DATADIR=$(realpath "$2")
if [ -e "$RUNDIR" ] && [ ! -f "$RUNDIR/run.log" ]; then echo "refusing to replace $RUNDIR: not a run folder" >&2; exit 2; fi
rm -rf "$RUNDIR"; mkdir -p "$RUNDIR"
export STEWARD_SECRETS_FILE="$RUNDIR/secrets.toml"    # keep secrets out of the checkout
export STEWARD_ADMIN_PASSWORD="indep3-$(date +%s)-pw"
ROOT=$(cd "$(dirname "$0")/../.." && pwd); cd "$ROOT" || exit 1
G() { .venv/bin/python -m governance --db "$RUNDIR/s.duckdb" "$@"; }
log() { echo "### $(date +%T) $*" | tee -a "$RUNDIR/run.log"; }

log init
G init --no-demo >>"$RUNDIR/run.log" 2>&1; echo "rc=$?" >>"$RUNDIR/run.log"

# file -> channel offered by the CLI (service tickets have no channel of their own: other)
declare -A CH=(
  [wx_mini_members_20240630.csv]=wechat_mp
  [gzh_fans_export.csv]=wechat_oa
  [douyin_laike_leads_2024Q2.csv]=douyin
  [ExportOrderList202406301830.csv]=tmall
  [pos_members.xlsx]=pos
  [crm_customers_full.csv]=crm
  [kefu_tickets.csv]=other
)
for f in wx_mini_members_20240630.csv gzh_fans_export.csv douyin_laike_leads_2024Q2.csv \
         ExportOrderList202406301830.csv pos_members.xlsx crm_customers_full.csv kefu_tickets.csv; do
  log "ingest $f"
  /usr/bin/time -f "%e s" -a -o "$RUNDIR/run.log" \
    .venv/bin/python -m governance --db "$RUNDIR/s.duckdb" ingest "$DATADIR/$f" --channel "${CH[$f]}" \
    >>"$RUNDIR/ingest.jsonl" 2>>"$RUNDIR/run.log"
  echo "rc=$?" >>"$RUNDIR/run.log"
done

log sources
G sources --json >"$RUNDIR/sources.json" 2>>"$RUNDIR/run.log"
: >"$RUNDIR/mapping.txt"
for s in wx_mini_members_20240630 gzh_fans_export douyin_laike_leads_2024Q2 ExportOrderList202406301830 \
         pos_members crm_customers_full kefu_tickets; do
  echo "== $s" >>"$RUNDIR/mapping.txt"
  G mapping show "$s" --explain >>"$RUNDIR/mapping.txt" 2>&1
done

log resolve
/usr/bin/time -f "%e s" -a -o "$RUNDIR/run.log" \
  .venv/bin/python -m governance --db "$RUNDIR/s.duckdb" resolve --json >"$RUNDIR/resolve.json" 2>>"$RUNDIR/run.log"
echo "rc=$?" >>"$RUNDIR/run.log"

log "export crosswalk"
G export crosswalk --out "$RUNDIR/crosswalk.csv" --unmasked --purpose "oneid quality evaluation" \
  --actor admin --force >>"$RUNDIR/run.log" 2>&1
echo "rc=$?" >>"$RUNDIR/run.log"
G review list --limit 100000 >"$RUNDIR/review_queue.txt" 2>&1
log done
