"""Compare credgate's identifier validation with python-stdnum.

Every disagreement must be explained by one of the documented rules below
(docs/identifiers.md); an unexplained one fails the run. The codes are
generated from a fixed seed, so the run is reproducible.
"""
import argparse
import json
import random
import re
import subprocess
import sys
from collections import Counter

from stdnum.cn import ric, uscc
from stdnum import numdb

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Documented differences: rule -> why.
RULES = {
    "uscc_org_code_check": "credgate checks the GB 11714 check character "
    "of the organisation code (positions 9-17); stdnum does not",
    "uscc_letter_authority": "credgate accepts the registration authorities "
    "N (农业) and Y (其他) in position 1; stdnum demands digits in 1-8",
    "uscc_authority_code": "credgate rejects position 1 outside 1-9/N/Y and "
    "position 2 = 0; stdnum accepts any digit",
    "ric_unknown_division": "stdnum rejects resident IDs whose division "
    "code is unknown or retired for the birth year; credgate accepts them "
    "with an unknown_division warning at most",
    "ric_birth_year": "credgate rejects birth years outside 1900-2099; "
    "stdnum accepts any calendar date",
}


def org_check(body):
    val = lambda c: int(c) if c.isdigit() else ord(c) - 55
    c = 11 - sum(val(ch) * w for ch, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def make_uscc(rng, fix_org):
    first = rng.choice("9999912345NY")
    kind = rng.choice("1239")
    division = rng.choice(DIVISIONS)
    body = "".join(rng.choice(ALPHABET) for _ in range(8))
    oc = org_check(body) if fix_org else rng.choice(ALPHABET)
    first17 = f"{first}{kind}{division}{body}{oc}"
    return first17 + uscc.calc_check_digit(first17 + "0")


def make_ric(rng):
    division = rng.choice(DIVISIONS + ["990101", "320103", "000000"])
    year = rng.choice([rng.randint(1930, 2020)] * 8 + [rng.randint(1800, 1899)])
    month = rng.choice([rng.randint(1, 12)] * 9 + [13])
    day = rng.choice([rng.randint(1, 28)] * 8 + [rng.randint(29, 32)])
    first17 = f"{division}{year:04}{month:02}{day:02}{rng.randint(0, 999):03}"
    return first17 + ric.calc_check_digit(first17 + "0")


def perturb(rng, code):
    i = rng.randrange(len(code))
    op = rng.randrange(5)
    if op == 0:  # substitution
        return code[:i] + rng.choice(ALPHABET) + code[i + 1:]
    if op == 1 and i < len(code) - 1:  # adjacent transposition
        return code[:i] + code[i + 1] + code[i] + code[i + 2:]
    if op == 2:  # deletion
        return code[:i] + code[i + 1:]
    if op == 3:  # insertion
        return code[:i] + rng.choice(ALPHABET) + code[i:]
    return code[:i] + " " + code[i:].lower()  # cleaning must cope


def stdnum_verdict(code):
    for mod, kind in ((uscc, "uscc"), (ric, "resident_id")):
        try:
            mod.validate(code)
            return True, kind, None
        except Exception as e:  # noqa: BLE001 - any rejection counts
            last = type(e).__name__
    return False, None, last


def explain(code, ours, theirs):
    """The documented rule behind a disagreement, or None."""
    norm = ours["normalized"]
    if theirs[0] and not ours["valid"]:
        if theirs[1] == "uscc" and ours["rule"] == "organisation_code_check":
            return "uscc_org_code_check"
        if theirs[1] == "uscc" and ours["rule"] == "format" and (
            norm[0] not in "123456789NY" or norm[1] == "0"
        ):
            return "uscc_authority_code"
        if theirs[1] == "resident_id" and ours["rule"] == "birth_date":
            year = int(norm[6:10])
            if not 1900 <= year <= 2099:
                return "ric_birth_year"
        # Valid for stdnum as a RIC but rejected by us as a USCC-looking
        # code: re-check under the rules above for the other kind.
        return None
    if ours["valid"] and not theirs[0]:
        if ours["kind"] == "uscc" and norm[0] in "NY":
            return "uscc_letter_authority"
        if ours["kind"] == "resident_id":
            try:
                ric.get_birth_place(norm)
            except Exception:  # noqa: BLE001
                return "ric_unknown_division"
        return None
    return None


def run_credgate(credgate, codes, kind=None):
    cmd = [credgate, "validate", "--json"]
    if kind:
        cmd += ["--kind", kind]
    out = subprocess.run(
        cmd, input="\n".join(codes) + "\n", capture_output=True, text=True
    )
    if out.returncode not in (0, 1):
        sys.exit(f"credgate failed: {out.stderr}")
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(results) == len(codes), (len(results), len(codes))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--credgate", required=True)
    ap.add_argument("--published", required=True)
    ap.add_argument("--count", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=20261127)
    args = ap.parse_args()

    published = re.findall(
        r"^\.\.\. ([0-9A-Z]{18})$", open(args.published).read(), re.M
    )
    assert len(published) == 200, len(published)

    rng = random.Random(args.seed)
    codes = list(published)
    per = args.count // 6
    codes += [make_uscc(rng, True) for _ in range(per)]
    codes += [make_uscc(rng, False) for _ in range(per)]
    codes += [make_ric(rng) for _ in range(per)]
    codes += [perturb(rng, rng.choice(published)) for _ in range(per)]
    codes += [perturb(rng, make_ric(rng)) for _ in range(per)]
    codes += [
        "".join(rng.choice(ALPHABET) for _ in range(rng.choice([17, 18, 18, 19])))
        for _ in range(per)
    ]

    results = run_credgate(args.credgate, codes)

    counts = Counter()
    unexplained = []
    for code, ours in zip(codes, results):
        theirs = stdnum_verdict(uscc.compact(code))
        if ours["valid"] == theirs[0]:
            counts["agree"] += 1
            continue
        if theirs[1] == "uscc" and ours["kind"] == "resident_id":
            # An all-digit code credgate took for a resident ID (which it
            # resembles); compare its verdict as a USCC instead.
            ours = run_credgate(args.credgate, [code], "uscc")[0]
            if ours["valid"]:
                counts["agree"] += 1
                continue
        rule = explain(code, ours, theirs)
        if rule is None:
            unexplained.append((code, ours, theirs))
        else:
            counts[rule] += 1
    pub_ok = sum(1 for c, r in zip(codes[:200], results[:200]) if r["valid"])

    print(f"codes compared: {len(codes)} (seed {args.seed})")
    print(f"published stdnum USCCs accepted: {pub_ok}/200")
    print(f"agree: {counts['agree']}")
    for rule, why in RULES.items():
        print(f"differ by {rule}: {counts[rule]}  -- {why}")
    print(f"unexplained: {len(unexplained)}")
    for code, ours, theirs in unexplained[:20]:
        print(f"  {code!r}: credgate {ours} / stdnum {theirs}")
    if unexplained or pub_ok != 200:
        sys.exit(1)


DIVISIONS = [
    "110000", "110101", "310115", "320100", "320102", "320106", "320115",
    "320205", "320281", "320302", "320412", "320505", "320583", "320612",
    "320706", "320812", "320902", "321002", "321181", "321202", "321302",
    "330106", "340104", "370102", "420106", "440106", "440305", "510107",
]

if __name__ == "__main__":
    main()
