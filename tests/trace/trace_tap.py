"""TAP output shared by the trace tests: ok() per check, todo() for a known
difference that must be fixed elsewhere, finish() for the plan and exit
status."""
import sys

results = []


def ok(cond, desc, detail=""):
    results.append(bool(cond))
    print("%sok %d - %s" % ("" if cond else "not ", len(results), desc))
    if not cond and detail:
        for line in str(detail).splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()


def todo(desc, reason, detail=""):
    """An expected failure now, an unexpected pass (a failure to act on)
    once REASON is dealt with."""
    results.append(True)
    print("not ok %d - %s # TODO %s" % (len(results), desc, reason))
    for line in str(detail).splitlines()[:10]:
        print("#   " + line)
    sys.stdout.flush()


def finish():
    print("1..%d" % len(results))
    return 0 if results and all(results) else 1
