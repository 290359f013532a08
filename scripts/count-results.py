#!/usr/bin/env python3
"""Counts every test case of the given meson build dirs and prints the
closing "N passed, N failed" line. A TAP test counts each of its cases; any
other test counts once. Exits 1 when anything failed or nothing ran."""
import json
import re
import sys

passed = failed = 0
failures = []
for build in sys.argv[1:]:
    try:
        lines = open(f"{build}/meson-logs/testlog.json").read().splitlines()
    except OSError:
        failed += 1
        failures.append(f"{build}: no test log")
        continue
    for line in lines:
        t = json.loads(line)
        ok_cases = bad_cases = 0
        for out in (t.get("stdout") or "").splitlines():
            if re.match(r"^ok \d+", out):
                ok_cases += 1
            elif re.match(r"^not ok \d+", out):
                bad_cases += 1
                failures.append(f"{build}: {t['name']}: {out}")
        result = t.get("result")
        if ok_cases + bad_cases:
            passed += ok_cases
            failed += bad_cases
            if result not in ("OK", "EXPECTEDFAIL") and bad_cases == 0:
                failed += 1
                failures.append(f"{build}: {t['name']}: {result}")
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            failures.append(f"{build}: {t['name']}: {result}")

for f in failures:
    print("FAILED:", f)
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
