#!/usr/bin/env bash
# usage: benchmarks/independent_scrm/run.sh RUNDIR SEED [PEOPLE] [DECISIONS]
# A third generator written by a tester who read only the README and the CLI docs: WeCom SCRM
# contacts, Youzan members (xlsx), JD orders (GB18030), Kuaishou/Xiaohongshu leads, store POS, a call
# centre with a title line and an overseas store with English headers. Generates the data into
# RUNDIR/data (once), drives the CLI on a fresh store with Steward's own mapping suggestions and no
# review decisions, and scores the crosswalk (RUNDIR/score.txt; report.json beside it). With DECISIONS,
# then answers that many pairs of the review queue from the truth (decide.py), resolves again and
# scores that too (RUNDIR/score_decided.txt).
set -euo pipefail
RUNDIR=$(realpath -m "$1"); SEED=${2:?seed}; PEOPLE=${3:-15000}; DECISIONS=${4:-0}
ROOT=$(cd "$(dirname "$0")/../.." && pwd); cd "$ROOT"
PY=.venv/bin/python; DATA=$RUNDIR/data
mkdir -p "$RUNDIR"
[ -f "$DATA/truth.csv" ] || $PY benchmarks/independent_scrm/gen.py --seed "$SEED" --people "$PEOPLE" --out "$DATA"
rm -rf "$RUNDIR"/s.duckdb* "$RUNDIR"/crosswalk.csv* "$RUNDIR"/secrets.* "$RUNDIR"/exports "$RUNDIR"/activations
export STEWARD_SECRETS_FILE=$RUNDIR/secrets.toml STEWARD_ADMIN_PASSWORD="scrm-$(date +%s)-pw"  # secrets outside the checkout
G() { $PY -m governance --db "$RUNDIR/s.duckdb" "$@"; }
G init --no-demo > "$RUNDIR/run.log" 2>&1
for spec in wecom_contacts.csv:crm youzan_members.xlsx:member jd_orders_gbk.csv:jd leads_ks_xhs.csv:other \
            pos_members.csv:pos callcenter_tickets.csv:crm overseas_store.csv:wechat_mp; do
  f=${spec%%:*}; ch=${spec##*:}
  G ingest "$DATA/$f" --source "${f%.*}" --channel "$ch" >> "$RUNDIR/run.log" 2>&1
done
G resolve --json > "$RUNDIR/resolve.json" 2>> "$RUNDIR/run.log"
G export crosswalk --out "$RUNDIR/crosswalk.csv" >> "$RUNDIR/run.log" 2>&1
G review list --limit 1000000 > "$RUNDIR/queue.txt" 2>> "$RUNDIR/run.log"
$PY benchmarks/independent_scrm/score.py --data "$DATA" --crosswalk "$RUNDIR/crosswalk.csv" --out "$RUNDIR/report" \
  --queue "$RUNDIR/queue.txt" > "$RUNDIR/score.txt"
head -20 "$RUNDIR/score.txt"
if [ "$DECISIONS" -gt 0 ]; then
  $PY benchmarks/independent_scrm/decide.py --db "$RUNDIR/s.duckdb" --data "$DATA" --decisions "$DECISIONS" | tee -a "$RUNDIR/run.log"
  G resolve --json > "$RUNDIR/resolve_decided.json" 2>> "$RUNDIR/run.log"
  G export crosswalk --out "$RUNDIR/crosswalk_decided.csv" >> "$RUNDIR/run.log" 2>&1
  $PY benchmarks/independent_scrm/score.py --data "$DATA" --crosswalk "$RUNDIR/crosswalk_decided.csv" \
    --out "$RUNDIR/report_decided" > "$RUNDIR/score_decided.txt"
  head -12 "$RUNDIR/score_decided.txt"
fi
