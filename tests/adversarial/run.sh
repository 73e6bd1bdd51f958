#!/bin/bash
# run.sh [SCRIPT...] - run the adversarial and integration scripts by hand
# (make check runs each one as its own test) and print every result line,
# then the failures and known gaps again.  BUILDDIR must point at a build
# dir where `make check` has built the binaries and attack programs.
here=$(cd "$(dirname "$0")" && pwd)
export SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
: "${BUILDDIR:?set BUILDDIR to the build dir}"
export BUILDDIR
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=(exec files procs limits net shell user ../integration/contract ../integration/false-positives)
log=$(mktemp)
status=0
for s in "${scripts[@]}"; do
	start=$SECONDS
	bash "$here/$s.sh" | tee -a "$log" || status=1
	echo "($s: $((SECONDS - start)) s)"
done
echo "---- failures and known gaps"
grep -E '^(FAIL|GAP)' "$log" || echo "none"
rm -f "$log"
exit $status
