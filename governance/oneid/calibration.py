"""Thresholds learned from steward decisions: every active review decision on a scored pair is a
label (approve = a true match). `precision_by_band` measures, per probability band, the share of
labelled pairs the stewards approved; `recommend` turns that into auto-accept and review-low
thresholds that hold a precision target; `record_apply` audits applying them (the pipeline's
`apply_thresholds` then resolves again with the saved model)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import pandas as pd

from governance.access import audit
from governance.access.events import Event
from governance.oneid import review
from governance.oneid.resolve import AUTO_ACCEPT, REVIEW_LOW
from governance.store.errors import GovernanceError

WIDTH = 0.05        # band width: 20 bands over [0, 1]
TARGET = 0.99       # precision the auto-accepted bands must hold
FLOOR = 0.5         # below this precision a band at the bottom of the queue is not worth reviewing
MIN_LABELS = 50     # labels a band needs before its precision counts as measured


def _bands(width: float) -> int:
    n = round(1 / width) if width > 0 else 0
    if n < 1 or abs(n * width - 1) > 1e-9:
        raise GovernanceError(f"The band width must divide 1 (0.01, 0.02, 0.05, 0.1 …), not {width}.")
    return n


def precision_by_band(cur: duckdb.DuckDBPyConnection, width: float = WIDTH, min_labels: int = MIN_LABELS) -> pd.DataFrame:
    """Every band [low, high) of `width` over [0, 1] (the last one includes 1), with its labelled
    pairs: `labels`, `approved`, `rejected`, `precision` (approved / labels, NaN without labels)
    and `measured` (at least `min_labels` labels). A label is a pair of the last run's scored pairs
    (`match_pairs`) with an active decision (the latest one when a pair was decided again).

    Only the pairs a threshold decides count: those the auto-link guards hold back (different
    names, a household phone, an order shipped to someone else) go to a steward at any threshold,
    so their labels say nothing about where it should be. They are counted apart, in `held` and
    `held_approved`."""
    n = _bands(width)
    counts = cur.execute(
        f"WITH d AS ({review.DECIDED_SQL}) "
        "SELECT band, count(*) FILTER (WHERE decision = 'approve' AND NOT held), "
        "count(*) FILTER (WHERE decision = 'reject' AND NOT held), count(*) FILTER (WHERE held), "
        "count(*) FILTER (WHERE decision = 'approve' AND held) "
        "FROM (SELECT least(floor(p.match_probability * ? + 1e-9), ? - 1)::INTEGER AS band, d.decision, "
        f"{review.HELD} AS held FROM d JOIN match_pairs p USING (rec_l, rec_r)) GROUP BY band", [n, n]).fetchall()
    by_band = {int(b): tuple(int(x) for x in rest) for b, *rest in counts}
    rows = []
    for k in range(n):
        approved, rejected, held, held_approved = by_band.get(k, (0, 0, 0, 0))
        labels = approved + rejected
        rows.append({"low": round(k / n, 6), "high": round((k + 1) / n, 6), "labels": labels, "approved": approved,
                     "rejected": rejected, "precision": approved / labels if labels else None,
                     "measured": labels >= min_labels, "held": held, "held_approved": held_approved})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Recommendation:
    """Thresholds the labels support, or None for both when no band has enough labels."""
    auto_accept: float | None
    review_low: float | None
    current_auto_accept: float
    current_review_low: float
    target: float
    floor: float
    min_labels: int
    labels: int           # labelled pairs in all bands (those a threshold decides)
    held: int             # labelled pairs the auto-link guards hold back, not counted
    measured_bands: int   # bands with at least min_labels labels

    @property
    def ready(self) -> bool:
        return self.auto_accept is not None

    @property
    def changes(self) -> bool:
        return self.ready and (not math.isclose(self.auto_accept or 0, self.current_auto_accept)
                               or not math.isclose(self.review_low or 0, self.current_review_low))


def recommend(cur: duckdb.DuckDBPyConnection, target: float = TARGET, min_labels: int = MIN_LABELS,
              floor: float = FLOOR, width: float = WIDTH) -> Recommendation:
    """Thresholds that hold `target` precision, from the bands of `precision_by_band`.

    A band is *measured* when it holds at least `min_labels` labels. With no measured band there
    are too few labels: both recommendations are None.

    auto-accept: the lowest candidate t (a band edge, or today's auto-accept) such that
      (1) every measured band starting at or above t has precision >= target, and
      (2) every band starting in [t, today's auto-accept) is measured: the threshold is lowered only
          through bands with evidence. Bands above today's threshold are auto-linked and rarely
          labelled; unmeasured, they keep today's trust. A measured band above it that misses the
          target raises the threshold past that band (1.0 at most: then nothing links by model).
    review-low: today's review-low, raised past each band at the bottom of the queue whose precision
      is below `floor` over at least `min_labels` labels, held-back pairs included (raising it drops
      them from the queue too; there most pairs are not matches and a steward mostly confirms
      non-matches), band by band, and never above the recommended auto-accept. It is never lowered:
      pairs below today's review-low are not kept, so they carry no labels.
    """
    if not 0 < floor <= target <= 1:
        raise GovernanceError(f"The precision target ({target}) and floor ({floor}) must satisfy 0 < floor <= target <= 1.")
    if min_labels < 1:
        raise GovernanceError(f"A band needs at least one label to count, not {min_labels}.")
    saved = review.latest_model(cur)
    current_auto = float(saved["auto_accept"]) if saved else AUTO_ACCEPT
    current_low = float(saved["review_low"]) if saved else REVIEW_LOW
    bands = precision_by_band(cur, width, min_labels)
    measured = bands[bands["measured"]]

    def made(auto: float | None, low: float | None) -> Recommendation:
        return Recommendation(auto, low, current_auto, current_low, target, floor, min_labels,
                              int(bands["labels"].sum()), int(bands["held"].sum()), len(measured))

    if measured.empty:
        return made(None, None)
    eps = 1e-9

    def holds(t: float) -> bool:
        above = measured[measured["low"] >= t - eps]
        gap = bands[(bands["low"] >= t - eps) & (bands["low"] < current_auto - eps)]
        return bool((above["precision"] >= target - eps).all() and gap["measured"].all())

    candidates = sorted({*bands["low"].tolist(), 1.0, current_auto})
    auto = next(t for t in candidates if holds(t))  # 1.0 always holds
    low = current_low
    n = len(bands)
    while low < auto - eps:
        band = bands.iloc[min(int(math.floor(low * n + eps)), n - 1)]
        queued = band["labels"] + band["held"]
        if queued < min_labels or (band["approved"] + band["held_approved"]) / queued >= floor or band["high"] > auto + eps:
            break
        low = float(band["high"])
    return made(round(auto, 6), round(min(low, auto), 6))


def record_apply(cur: duckdb.DuckDBPyConnection, actor: str, auto_accept: float, review_low: float,
                 target: float | None = None) -> dict:
    """Audit applying new thresholds (before, after, the precision target and the preview); the
    caller resolves in the same transaction. Returns the preview."""
    saved = review.latest_model(cur)
    preview = review.threshold_preview(cur, auto_accept, review_low)
    audit.record(cur, actor, Event.ONEID_THRESHOLDS_APPLY, "oneid_thresholds", f"{auto_accept:.4f}/{review_low:.4f}",
                 {"auto_accept": auto_accept, "review_low": review_low, "target": target,
                  "before": {"auto_accept": saved["auto_accept"], "review_low": saved["review_low"]} if saved else None,
                  "preview": preview})
    return preview
