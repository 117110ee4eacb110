"""Assigns each new tabular benchmark set to SELECTION or CONFIRMATION by a fixed, seeded rule (written before any result).

Rule: group the sets by task (binary, multiclass, regression, in that order); inside a group sort by the SHA-256 hex
digest of SEED + name; walk the groups in order and deal the sets alternately to SELECTION and CONFIRMATION, starting
with SELECTION and carrying the alternation from one group to the next (so the two sides differ by at most one set).
"""
import hashlib

SEED = "dynmoe-benchmark-split-v1/"
NEW_SETS = {
    "binary": ["hmda_mortgage", "health_insurance", "contraception_bangladesh"],
    "multiclass": ["dna_splice", "income_bay_area", "hpc_jobs"],
    "regression": ["exam_london", "college_distance", "nmes1988_visits", "cps1988_wages"],
}


def split():
    sides, turn = {}, 0
    for task in ("binary", "multiclass", "regression"):
        for name in sorted(NEW_SETS[task], key=lambda n: hashlib.sha256((SEED + n).encode("utf-8")).hexdigest()):
            sides[name] = ("selection", "confirmation")[turn % 2]
            turn += 1
    return sides


if __name__ == "__main__":
    for task, names in NEW_SETS.items():
        for n in sorted(names, key=lambda n: hashlib.sha256((SEED + n).encode("utf-8")).hexdigest()):
            print(f"{task:10} {hashlib.sha256((SEED + n).encode('utf-8')).hexdigest()[:12]} {n:26} {split()[n]}")
