"""Print one table of every stage of ``scripts/run-tests.sh``.

Reads the JUnit files of the stages and the schemathesis reports from the
test output folder; exits with 1 when a stage failed.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

LABELS = {
    "sqlite": "SQLite",
    "browser": "Browser (Chromium, SQLite)",
    "schemathesis-sqlite": "schemathesis (SQLite)",
    "postgresql": "PostgreSQL",
    "schemathesis-postgresql": "schemathesis (PostgreSQL)",
}


def totals(path: Path) -> dict:
    """Counts of one JUnit file, and the outcome of each test in it."""
    # The files are the suite's own, written by pytest moments before.
    root = ET.parse(path).getroot()  # noqa: S314
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    cases = []
    for suite in suites:
        for key in ("tests", "failures", "errors", "skipped"):
            counts[key] += int(suite.get(key, 0))
        counts["time"] += float(suite.get("time", 0))
        for case in suite.iter("testcase"):
            outcome = "passed"
            for tag in ("failure", "error", "skipped"):
                if case.find(tag) is not None:
                    outcome = {"failure": "FAILED", "error": "ERROR"}.get(tag, tag)
            cases.append((case.get("name", ""), outcome))
    counts["passed"] = (
        counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    )
    counts["cases"] = cases
    return counts


def main(folder: str, seconds: str = "0") -> int:
    """Print the table of the stages found in ``folder``; 1 if any failed."""
    out = Path(folder)
    failed = False
    print()
    print("=" * 78)
    print("Test summary")
    print("=" * 78)
    print(
        f"{'stage':30} {'tests':>6} {'passed':>7} {'failed':>7} {'errors':>7}"
        f" {'skipped':>8} {'time':>7}"
    )
    results = {}
    for name, label in LABELS.items():
        path = out / "junit" / f"{name}.xml"
        if not path.exists():
            continue
        counts = totals(path)
        results[name] = counts
        failed |= bool(counts["failures"] or counts["errors"] or not counts["tests"])
        print(
            f"{label:30} {counts['tests']:>6} {counts['passed']:>7}"
            f" {counts['failures']:>7} {counts['errors']:>7} {counts['skipped']:>8}"
            f" {counts['time']:>6.0f}s"
        )

    if "browser" in results:
        print()
        print("Browser tests:")
        for case, outcome in results["browser"]["cases"]:
            print(f"  {outcome:8} {case}")

    for database in ("sqlite", "postgresql"):
        report = out / f"schemathesis-{database}.json"
        if not report.exists():
            continue
        data = json.loads(report.read_text())
        statuses = ", ".join(f"{k}: {v}" for k, v in data["statuses"].items())
        print()
        print(
            f"schemathesis on {LABELS[database]}: {data['requests']} generated "
            f"requests over {len(data['operations'])} operations in "
            f"{data['seconds']:.0f}s; answers by status: {statuses}"
        )
    print()
    print(f"Wall time of the stages: {int(seconds) // 60} min {int(seconds) % 60} s")
    print("RESULT:", "FAILED" if failed else "all stages passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
