"""checks.py - the small harness the Python test scripts share: @check, eq, report.

A test script decorates each check with @check("what it shows"); the check runs
at once and its failure (an assertion or any exception) is recorded. report()
prints one line per check and the closing "N passed, N failed" line, and exits
1 when anything failed.
"""
import sys

results = []


def check(name):
    def wrap(fn):
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
