#!/bin/bash
# false-positives.sh - ordinary CI work must pass under the default policy:
# make of a C program, git init && git commit, and a real npm test.
. "$(dirname "$0")/../adversarial/lib.sh"

require "make, cc, git, node, npm and python3" command -v make cc git node npm python3

# make of a small C program
mkdir -p "$WS/proj"
printf '#include <stdio.h>\nint main(void) { puts("built and ran"); return 0; }\n' >"$WS/proj/hello.c"
printf 'hello: hello.c\n\t$(CC) -O2 -Wall -o $@ $<\n\ncheck: hello\n\t./hello\n' >"$WS/proj/Makefile"
guard -c "cd $WS/proj && make check"
check "false positive: make builds and runs a C program" "all layers allow" \
	"exit $GUARD_RC; $(last_output)" eval '[ $GUARD_RC -eq 0 ] && grep -q "built and ran" "$WS/.out"'

# git init && git commit, HOME and identity inside the workspace
mkdir -p "$WS/repo"
printf 'hello\n' >"$WS/repo/README"
guard -c "cd $WS/repo && git init -q && git add README && git -c user.name=CI -c user.email=ci@example.invalid commit -q -m initial && git log --oneline"
check "false positive: git init && git commit" "all layers allow" \
	"exit $GUARD_RC; $(last_output)" eval '[ $GUARD_RC -eq 0 ] && grep -q initial "$WS/.out"'

# As root in a runner HOME=/root is a secret: git gets a HOME of its own
# and says nothing about it (no refusal, no warning).
mkdir -p "$WS/repo2"
printf 'hello\n' >"$WS/repo2/README"
HOME=/root guard -c "cd $WS/repo2 && git init -q && git add README && git -c user.name=CI -c user.email=ci@example.invalid commit -q -m initial && git log --oneline"
check "false positive: git commit with HOME=/root" "guard-exec HOME" \
	"exit $GUARD_RC; $(last_output)" eval '[ $GUARD_RC -eq 0 ] && grep -q initial "$WS/.out" && ! grep -q "denied\|warning" "$WS/.err"'

# python3 -m unittest, the way a Python project's CI runs its tests
mkdir -p "$WS/py"
printf 'import unittest, json, tempfile, os\nclass T(unittest.TestCase):\n    def test_tmp(self):\n        with tempfile.TemporaryDirectory() as d:\n            p = os.path.join(d, "x.json")\n            json.dump({"a": 1}, open(p, "w"))\n            self.assertEqual(json.load(open(p))["a"], 1)\n' >"$WS/py/test_x.py"
guard -c "cd $WS/py && python3 -m unittest -q 2>&1"
check "false positive: python3 -m unittest passes" "all layers allow" \
	"exit $GUARD_RC; $(last_output)" eval '[ $GUARD_RC -eq 0 ] && grep -q "^OK" "$WS/.out"'

# npm test of a real package from the npm registry: path-parse 1.0.6 (MIT),
# whose tarball ships its own test.js (node + assert, no dependencies);
# kept in tests/data so that the test needs no network.
mkdir -p "$WS/pkg"
tar -xzf "$SRCDIR/tests/data/path-parse-1.0.6.tgz" -C "$WS/pkg" 2>/dev/null
check "false positive: the path-parse tarball unpacks" "setup" "no package.json" test -f "$WS/pkg/package/package.json"
guard -c "cd $WS/pkg/package && npm test --no-update-notifier"
check "false positive: npm test of path-parse 1.0.6 passes" "all layers allow" \
	"exit $GUARD_RC; $(last_output)" eval '[ $GUARD_RC -eq 0 ] && grep -q "node test.js" "$WS/.out"'
# The test suite really runs: a broken copy must fail under the guard too.
printf '\nrequire("assert").strictEqual(1, 2);\n' >>"$WS/pkg/package/test.js"
guard -c "cd $WS/pkg/package && npm test --no-update-notifier"
check "false positive: a failing npm test fails under the guard" "contract" \
	"exit $GUARD_RC" test "$GUARD_RC" -ne 0 -a "$GUARD_RC" -ne 126 -a "$GUARD_RC" -ne 125

finish
