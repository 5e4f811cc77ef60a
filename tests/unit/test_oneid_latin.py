"""People named in Latin script, in separate given/family columns with no phone or resident ID (the
shape of the public Febrl data): auto-mapping plus resolve link their duplicates."""
from __future__ import annotations

import itertools
import random

from governance import pipeline

GIVEN = ["michaela", "joshua", "emily", "liam", "chloe", "lachlan", "isabella", "jack", "olivia", "thomas",
         "sophie", "noah", "ruby", "ethan", "grace", "samuel", "mia", "william", "zoe", "lucas"]
FAMILY = ["neumann", "white", "clarke", "nguyen", "patel", "murphy", "kelly", "walsh", "ryan", "brennan",
          "thompson", "campbell", "stewart", "robertson", "morrison", "hughes", "fraser", "mitchell"]
STREETS = ["banksia street", "wattle road", "kent avenue", "paterson place", "oxley circuit", "hume drive"]
SUBURBS = ["red hill", "kambah", "ngunnawal", "weston", "dickson", "bruce"]


def _typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]  # two letters swapped


def test_split_latin_names_link_through_auto_mapping(db, tmp_path):
    rng = random.Random(7)
    people = list(itertools.islice(((g, f) for g in GIVEN for f in FAMILY), 0, None, 3))[:120]
    rows, truth = ["rec_id,given_name,surname,date_of_birth,address_1,suburb,postcode"], {}  # row number -> person
    for n, (given, family) in enumerate(people):
        dob = f"19{rng.randrange(50, 99)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
        street, suburb, postcode = f"{rng.randrange(1, 90)} {rng.choice(STREETS)}", rng.choice(SUBURBS), f"2{rng.randrange(600, 620)}"
        rows.append(f"rec-{n}-org,{given},{family},{dob},{street},{suburb},{postcode}")
        typo_given, typo_street = (_typo(given, rng), street) if n % 2 else (given, _typo(street, rng))
        rows.append(f"rec-{n}-dup-0,{typo_given},{family},{dob},{typo_street},{suburb},{postcode}")
        truth[2 * n + 1] = truth[2 * n + 2] = n
    path = tmp_path / "people.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = pipeline.load_file(db, "t", path, source="people", channel="other")
    mapped = {h: f for h, f in loaded.ingested.mapping.items() if f}
    assert mapped["given_name"] == "given_name" and mapped["surname"] == "family_name"
    pipeline.resolve(db, "t")
    with db.cursor() as cur:
        oneids = dict(cur.execute("SELECT row_number, oneid FROM crosswalk").fetchall())
    linked = {(a, b) for a, b in itertools.combinations(sorted(oneids), 2) if oneids[a] == oneids[b]}
    true = {(a, b) for a, b in itertools.combinations(sorted(truth), 2) if truth[a] == truth[b]}
    precision = len(linked & true) / max(len(linked), 1)
    recall = len(linked & true) / len(true)
    assert precision >= 0.98 and recall >= 0.9, (precision, recall)
