"""Shared scaffolding of the Python end-to-end tests: a check counter that ends with the
'N passed, M failed' line ctest and CI read, and a runner for the roisim binary."""
import subprocess
import sys


class Checks:
    """check(cond, what) counts a result and prints what failed; finish() prints the tally and exits."""

    def __init__(self):
        self.passed = 0
        self.failures = []

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)
            print("FAIL:", what, flush=True)
        return cond

    def finish(self):
        print(f"{self.passed} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


def runner(binary):
    """A function running `binary ARGS...`, capturing text output."""
    def run(*args, **kw):
        return subprocess.run([binary, *args], capture_output=True, text=True, **kw)
    return run
