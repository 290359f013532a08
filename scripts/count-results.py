#!/usr/bin/env python3
"""Counts every test case of the given meson build dirs and prints the
closing "N passed, N failed, N skipped" line. A TAP test counts each of its
cases; any other test counts once. A TAP "# SKIP" case counts as skipped and
a "not ok ... # TODO" case (a known, documented defect) is listed and counted
as skipped too, never as passed. Exits 1 when anything failed or nothing
passed."""
import json
import re
import sys

passed = failed = skipped = 0
failures = []
known = []
for build in sys.argv[1:]:
    try:
        lines = open(f"{build}/meson-logs/testlog.json").read().splitlines()
    except OSError:
        failed += 1
        failures.append(f"{build}: no test log")
        continue
    for line in lines:
        t = json.loads(line)
        cases = 0
        bad = 0
        for out in (t.get("stdout") or "").splitlines():
            m = re.match(r"^(not )?ok \d+(.*)$", out)
            if not m:
                continue
            cases += 1
            directive = re.search(r"#\s*(SKIP|TODO)", m.group(2), re.I)
            if directive:
                skipped += 1
                if directive.group(1).upper() == "TODO" or m.group(1):
                    known.append(f"{build}: {t['name']}: {out}")
            elif m.group(1):
                failed += 1
                bad += 1
                failures.append(f"{build}: {t['name']}: {out}")
            else:
                passed += 1
        result = t.get("result")
        if cases:
            if result not in ("OK", "EXPECTEDFAIL") and bad == 0:
                failed += 1
                failures.append(f"{build}: {t['name']}: {result}")
        elif result == "SKIP":
            skipped += 1
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            failures.append(f"{build}: {t['name']}: {result}")

for k in known:
    print("KNOWN:", k)
for f in failures:
    print("FAILED:", f)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(0 if failed == 0 and passed > 0 else 1)
