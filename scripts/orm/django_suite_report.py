"""Summarise the outcome files django_suite_runner.py writes.

    django_suite_report.py NAME=FILE [NAME=FILE]

Prints, for each run, the counts per app and in total; with two runs (the
baseline first), every test the baseline passed that the second did not,
with the second's reason, and the reverse; every failure of the last run;
then each run's `N passed, N failed, N skipped` line, the last run's last.
Failed counts failures, errors and unexpected successes; skipped and
expected failures are neither."""

import collections
import json
import sys

RANK = {"passed": 0, "skipped": 1, "expected failure": 2,
        "unexpected success": 3, "failed": 4, "error": 5}
COLUMNS = ("passed", "failed", "skipped", "expected failure")


def load(path):
    """test id -> (outcome, detail), the worst outcome a test reported."""
    outcomes = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            old = outcomes.get(rec["test"])
            if old is None or RANK[rec["outcome"]] > RANK[old[0]]:
                outcomes[rec["test"]] = (rec["outcome"], rec["detail"])
    return outcomes


def column(outcome):
    if outcome in ("failed", "error", "unexpected success"):
        return "failed"
    return outcome


def counts(outcomes):
    per_app = collections.defaultdict(collections.Counter)
    for test, (outcome, _) in outcomes.items():
        per_app[test.split(".", 1)[0]][column(outcome)] += 1
    total = collections.Counter()
    for c in per_app.values():
        total.update(c)
    return per_app, total


def print_passed_only_on(run, other):
    """Every test `run` passed and `other` did not, with other's outcome."""
    (name, outcomes), (other_name, other_outcomes) = run, other
    tests = sorted(t for t, (o, _) in outcomes.items()
                   if o == "passed" and other_outcomes.get(t, ("", ""))[0] != "passed")
    print(f"\n{len(tests)} test(s) passed on {name} and not on {other_name}:")
    for t in tests:
        outcome, detail = other_outcomes.get(t, ("not run", ""))
        print(f"  {t}: {outcome}: {detail}")


def main(argv):
    runs = [arg.split("=", 1) for arg in argv]
    loaded = [(name, load(path)) for name, path in runs]
    apps = sorted({app for _, outcomes in loaded for app in counts(outcomes)[0]})
    header = "%-20s" % "app" + "".join(
        "  %-34s" % (name + ": " + "/".join(c[:4] for c in COLUMNS)) for name, _ in loaded)
    print(header)
    tables = [counts(outcomes) for _, outcomes in loaded]
    for app in apps + ["TOTAL"]:
        cells = []
        for per_app, total in tables:
            c = total if app == "TOTAL" else per_app.get(app, collections.Counter())
            cells.append("  %-34s" % " / ".join(str(c[k]) for k in COLUMNS))
        print("%-20s" % app + "".join(cells))
    if len(loaded) == 2:
        print_passed_only_on(loaded[0], loaded[1])
        print_passed_only_on(loaded[1], loaded[0])
    name, outcomes = loaded[-1]
    failed = sorted(t for t, (o, _) in outcomes.items() if column(o) == "failed")
    print(f"\n{len(failed)} test(s) failed on {name}:")
    for t in failed:
        print(f"  {t}: {outcomes[t][0]}: {outcomes[t][1]}")
    for name, (_, total) in zip((n for n, _ in loaded), tables):
        print(f"{name}: {total['passed']} passed, {total['failed']} failed, "
              f"{total['skipped'] + total['expected failure']} skipped")


if __name__ == "__main__":
    main(sys.argv[1:])
