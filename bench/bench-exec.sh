#!/usr/bin/env bash
# bench-exec.sh - what guard-exec costs, side by side in one run:
#   1. start-up: /bin/true bare, under env, timeout 10, guard-exec, bwrap, firejail
#   2. an exec loop: 1000 spawns of /bin/true in sh, bare vs guarded
#   3. a real npm test (the package in tests/data, if present), bare vs guarded
#   4. draining output past the cap vs cat draining the same pipe
#   5. the supervisor's peak RSS
# Needs hyperfine (apt-get install hyperfine); bwrap and firejail are used
# when installed.  Usage: bench/bench-exec.sh [BUILDDIR] (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
ge="$build/cli/guard-exec"
runs=${RUNS:-200}
command -v hyperfine >/dev/null || { echo "bench-exec: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ -x "$ge" ] || { echo "bench-exec: no $ge; build first" >&2; exit 1; }

ws=$(mktemp -d /tmp/cg-bench-XXXXXX)
# The state directory joins the run's secrets, so Landlock grants each
# other entry of its parent one by one: in /tmp (hundreds of entries on a
# busy machine) that costs ~2 ms a run.  The default, /var/lib/commandguard,
# sits in a small directory; /var/tmp stands in for it here.
state=$(mktemp -d /var/tmp/cg-bench-state-XXXXXX)
trap 'rm -rf "$ws" "$state"' EXIT
# A fresh ticket per invocation would be fairer to the rate limit; the
# benchmark raises the limit instead so that it measures the run, not the refusal.
conf="$ws/bench.conf"
printf 'ratelimit = { count = 1000000; window_s = 1; };\n' >"$conf"
G="$ge --config $conf --state-dir $state --workspace $ws"
# hyperfine rewrites its markdown file after every command: keep the last.
table() { local md="$ws/table.md"; hyperfine "$@" --export-markdown "$md" >/dev/null 2>&1; cat "$md"; }

echo "# CommandGuard exec benchmark"
echo "# command: $0 $*"
echo "# $(uname -srm), $(nproc) cores, $(date -u +%FT%TZ), runs=$runs"
echo
echo "## 1. start-up (/bin/true)"
cmds=("/bin/true" "env /bin/true" "timeout 10 /bin/true" "$G -- /bin/true")
command -v bwrap >/dev/null && cmds+=("bwrap --dev-bind / / /bin/true")
command -v firejail >/dev/null && cmds+=("firejail --quiet --noprofile /bin/true")
table -N --warmup 20 --runs "$runs" "${cmds[@]}"

echo
echo "## 2. exec loop: 1000 spawns of /bin/true in sh"
loop='i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done'
table --warmup 1 --runs 10 "sh -c '$loop'" "$G -- sh -c '$loop'" \
	"GUARD_PRELOAD=/nonexistent $G -- sh -c '$loop'"

pkg=$(ls "$here"/tests/data/*.tgz 2>/dev/null | head -1 || true)
if [ -n "$pkg" ] && command -v npm >/dev/null; then
	echo
	echo "## 3. npm test of $(basename "$pkg")"
	mkdir -p "$ws/pkg" && tar xzf "$pkg" -C "$ws/pkg" --strip-components=1
	table --warmup 1 --runs 10 "cd $ws/pkg && npm test --silent" \
		"cd $ws/pkg && $ge --config $conf --state-dir $state --workspace $ws/pkg -- npm test --silent" \
		"cd $ws/pkg && GUARD_PRELOAD=/nonexistent $ge --config $conf --state-dir $state --workspace $ws/pkg -- npm test --silent"
fi

echo
echo "## 4. 100 MB of output past a 1 MiB cap"
table --warmup 1 --runs 10 "head -c 100M /dev/zero | cat >/dev/null" \
	"$G -- head -c 100M /dev/zero >/dev/null 2>&1"

echo
echo "## 5. peak RSS of guard-exec (the supervisor) running /bin/true"
/usr/bin/time -f "| guard-exec -- /bin/true | %M KiB |" $G -- /bin/true 2>&1 >/dev/null | grep '^|' || true
