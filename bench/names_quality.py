"""Name-matching quality on the bundled evaluation set: Rasid's matcher vs plain rapidfuzz.

    .venv/bin/python bench/names_quality.py [--json]

Gallery: the Arabic `record` rows of bench/data/names_eval.csv (148 persons, including 45
pairs of different people with confusable names). Queries: the `query` rows (Latin and
Arabic spellings of those persons) and the `absent_query` rows (similar names of people who
are not in the gallery). For each method, in the same run:

- recall@1 / recall@5: the share of queries whose person is ranked first / in the top five;
- false-match rate: the share of absent queries whose best score reaches the method's
  threshold, the threshold being the score that 95 % of correct first-ranked matches reach
  (so both methods are judged at the same recall of true matches).

The baseline is rapidfuzz's `fuzz.token_sort_ratio` on the raw strings (what one gets by
calling the library directly, order-insensitive).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import fuzz

from rasid.registry import names

DATA = Path(__file__).resolve().parent / "data" / "names_eval.csv"


def load() -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    gallery: dict[str, str] = {}
    queries: list[tuple[str, str, str]] = []
    with DATA.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["role"] == "record":
                gallery[row["person_id"]] = row["name"]
            else:
                queries.append((row["person_id"], row["role"], row["name"]))
    return gallery, queries


def rasid_scorer(gallery: dict[str, str]) -> Callable[[str], list[tuple[float, str]]]:
    parsed = {pid: names.parse(name) for pid, name in gallery.items()}

    def rank(query: str) -> list[tuple[float, str]]:
        q = names.parse(query)
        return sorted(
            ((names.score(q, form).score, pid) for pid, form in parsed.items()), reverse=True
        )

    return rank


def rapidfuzz_scorer(gallery: dict[str, str]) -> Callable[[str], list[tuple[float, str]]]:
    def rank(query: str) -> list[tuple[float, str]]:
        return sorted(
            ((fuzz.token_sort_ratio(query, name) / 100, pid) for pid, name in gallery.items()),
            reverse=True,
        )

    return rank


def evaluate(
    rank: Callable[[str], list[tuple[float, str]]], queries: list[tuple[str, str, str]]
) -> dict[str, float]:
    present = [(pid, name) for pid, role, name in queries if role == "query"]
    absent = [(pid, name) for pid, role, name in queries if role == "absent_query"]
    hits1 = hits5 = 0
    correct_scores: list[float] = []
    started = time.perf_counter()
    for pid, name in present:
        ranked = rank(name)
        top = [p for _, p in ranked[:5]]
        if top and top[0] == pid:
            hits1 += 1
            correct_scores.append(ranked[0][0])
        if pid in top:
            hits5 += 1
    correct_scores.sort()
    threshold = correct_scores[int(len(correct_scores) * 0.05)] if correct_scores else 1.0
    false_matches = sum(1 for _, name in absent if rank(name)[0][0] >= threshold)
    elapsed = time.perf_counter() - started
    return {
        "queries": len(present),
        "absent_queries": len(absent),
        "recall_at_1": round(hits1 / len(present), 4),
        "recall_at_5": round(hits5 / len(present), 4),
        "threshold": round(threshold, 4),
        "false_match_rate": round(false_matches / len(absent), 4),
        "seconds": round(elapsed, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    gallery, queries = load()
    ours = evaluate(rasid_scorer(gallery), queries)
    base = evaluate(rapidfuzz_scorer(gallery), queries)
    latin = [q for q in queries if not names.is_arabic(q[2])]
    ours_latin = evaluate(rasid_scorer(gallery), latin)
    base_latin = evaluate(rapidfuzz_scorer(gallery), latin)
    result = {
        "gallery": len(gallery),
        "rasid": ours,
        "rapidfuzz_raw": base,
        "rasid_latin_only": ours_latin,
        "rapidfuzz_raw_latin_only": base_latin,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"gallery {len(gallery)} Arabic records; {ours['queries']} queries, {ours['absent_queries']} absent queries"
    )
    for label, r in (
        ("Rasid matcher", ours),
        ("rapidfuzz raw", base),
        ("Rasid, Latin queries", ours_latin),
        ("rapidfuzz, Latin queries", base_latin),
    ):
        print(
            f"{label:<26} recall@1 {r['recall_at_1']:.3f}  recall@5 {r['recall_at_5']:.3f}  "
            f"false-match {r['false_match_rate']:.3f} (threshold {r['threshold']})"
        )
    print(
        f"ratio recall@1 Rasid/rapidfuzz: {ours['recall_at_1'] / max(base['recall_at_1'], 1e-9):.2f}"
    )


if __name__ == "__main__":
    main()
