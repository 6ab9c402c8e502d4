#!/usr/bin/env python3
"""run.py - run the HTTP-level tests against a foshub binary.

    python3 tests/http/run.py --bin build/foshub [-k PATTERN]

Each test module starts real hub processes on free loopback ports (see
harness.py). The exit status is non-zero when any test fails.
"""

import argparse
import os
import sys
import unittest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the foshub binary to test")
    ap.add_argument("-k", dest="pattern", action="append",
                    help="only tests whose name contains PATTERN")
    ap.add_argument("-v", action="store_true", help="verbose")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["FOSHUB_BIN"] = os.path.abspath(args.bin)
    if not os.access(os.environ["FOSHUB_BIN"], os.X_OK):
        sys.exit("run.py: %s is not an executable" % args.bin)
    sys.path.insert(0, here)
    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = ["*%s*" % p for p in args.pattern]
    suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
    result = unittest.TextTestRunner(verbosity=2 if args.v else 1).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
