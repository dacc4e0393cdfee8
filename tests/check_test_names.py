#!/usr/bin/env python3
"""Fails when a doctest test case's name holds a ';'. doctest_discover_tests passes each name to
ctest as `--test-case=NAME`, and CMake cuts lists at ';', so such a test runs no case at all under
ctest and passes without checking anything. Usage: check_test_names.py TRANSCODE_TESTS_BINARY"""
import subprocess
import sys

listing = subprocess.run([sys.argv[1], "--list-test-cases", "--no-version"], capture_output=True, text=True, check=True).stdout
names = [line.strip() for line in listing.splitlines() if line.strip() and not line.startswith("[doctest]") and not line.startswith("=")]
bad = [n for n in names if ";" in n]
for n in bad:
    print(f"test case name holds ';' (ctest would run none of it): {n}")
if len(names) < 100:
    print(f"only {len(names)} test cases listed: the listing format changed?")
    sys.exit(1)
print(f"{len(names)} test case names, {len(bad)} with ';'")
sys.exit(1 if bad else 0)
