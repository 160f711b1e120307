"""checks.py - the small harness the Python test scripts share: @check, eq, report.

A test script decorates each check with @check("what it shows"); the check runs
at once and its failure (an assertion or any exception) is recorded (with
CHECKS_ONLY=TEXT in the environment, only the checks whose name contains TEXT run). report()
prints one line per check and the closing "N passed, N failed" line, and exits
1 when anything failed.
"""
import os
import sys

results = []
ONLY = os.environ.get("CHECKS_ONLY")  # run only the checks whose name contains it (by hand)


def check(name):
    def wrap(fn):
        if ONLY and ONLY not in name:
            return fn
        try:
            fn()
            results.append((name, None))
        except AssertionError as e:
            results.append((name, str(e) or "assertion failed"))
        except Exception as e:  # a crash of the check itself is a failure too
            results.append((name, "%s: %s" % (type(e).__name__, e)))
        return fn
    return wrap


def eq(got, want, what=""):
    assert got == want, "%s: got %r, expected %r" % (what, got, want)


def report():
    for name, failure in results:
        print("%s %s" % ("ok  " if failure is None else "FAIL", name))
        if failure:
            print("     " + failure.replace("\n", "\n     "))
    failed = sum(1 for _, f in results if f)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    sys.exit(1 if failed else 0)
