# lib.sh - shared by the adversarial and integration test scripts.
#
# Sourced by bash scripts that make check runs with BUILDDIR and SRCDIR in
# the environment (AM_TESTS_ENVIRONMENT).  Every test prints one line,
#   ok   <name> — <layer>
#   FAIL <name> — <layer>: <what happened>
# and the script exits non-zero when any test failed.  Missing root or a
# missing kernel feature is a failure that names the feature, never a skip.

set -u
export LC_ALL=C

: "${BUILDDIR:?BUILDDIR is not set (run through make check, or export it)}"
: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
GUARD_EXEC=$BUILDDIR/cli/guard-exec
GUARDCTL=$BUILDDIR/cli/guardctl
ATK_BUILD=$BUILDDIR/tests/adversarial

CG_FAILS=0
CG_OKS=0
CG_SCRIPT=$(basename "$0" .sh)

ok()
{
	CG_OKS=$((CG_OKS + 1))
	printf 'ok   %s — %s\n' "$1" "$2"
}

# Attacks that succeed today and are documented in GAPS.md (name
# patterns).  When one of them shows its effect it prints GAP instead of
# FAIL; once the guard stops it, it prints ok like any other.  A harness
# problem (no baseline, the attack never ran) stays a FAIL.
CG_KNOWN_GAPS=(
)

# fail NAME LAYER WHY
fail()
{
	local pattern
	case $3 in
	*baseline* | *"did not run"* | *"never"* | *"exited 124"* | *"exited 125"*) ;;
	*)
		for pattern in "${CG_KNOWN_GAPS[@]}"; do
			# shellcheck disable=SC2254
			case $1 in
			$pattern)
				gap "$1" "$2" "$3"
				return
				;;
			esac
		done
		;;
	esac
	CG_FAILS=$((CG_FAILS + 1))
	printf 'FAIL %s — %s: %s\n' "$1" "$2" "$3"
}

# check NAME LAYER WHY-IF-FALSE COMMAND...: ok when COMMAND succeeds.
check()
{
	local name=$1 layer=$2 why=$3
	shift 3
	if "$@"; then ok "$name" "$layer"; else fail "$name" "$layer" "$why"; fi
}

# A requirement that is not met fails the whole script loudly.
require()
{
	local feature=$1
	shift
	if ! "$@" >/dev/null 2>&1; then
		printf 'FAIL %s — requirement: %s is missing; these tests cannot run without it\n' \
			"$CG_SCRIPT" "$feature"
		exit 1
	fi
}

finish()
{
	printf '%s: %d ok, %d failed, %d known gaps\n' "$CG_SCRIPT" "$CG_OKS" "$CG_FAILS" "$CG_GAPS"
	[ "$CG_FAILS" -eq 0 ]
}

require "root (the guard's runtime layers and these tests need uid 0)" test "$(id -u)" -eq 0
require "cli/guard-exec in the build dir ($GUARD_EXEC)" test -x "$GUARD_EXEC"
require "cli/guardctl in the build dir ($GUARDCTL)" test -x "$GUARDCTL"
require "the attack programs (make check builds them in $ATK_BUILD)" test -x "$ATK_BUILD/atk-exec"
require "seccomp user notification (/proc/sys/kernel/seccomp/actions_avail has user_notif)" \
	grep -q user_notif /proc/sys/kernel/seccomp/actions_avail

# The workspace lives outside /tmp (an allowed path of the default policy)
# so that "outside the allowed paths" has a place right next to it.
WS=$(mktemp -d /var/tmp/cg-adv-ws.XXXXXX)
OUTSIDE=$(mktemp -d /var/tmp/cg-adv-out.XXXXXX)
CG_CLEANUP=()
cleanup()
{
	local c
	for c in "${CG_CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1; done
	rm -rf "$WS" "$OUTSIDE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Copy the attack programs into the workspace, so that the run does not
# depend on where the build dir lives, and install the forbidden program
# under a blocked name (mount) and an innocent one (helper).
mkdir -p "$WS/bin" "$WS/t"
cp "$ATK_BUILD"/atk-* "$ATK_BUILD"/cg-* "$WS/t/"
cp "$ATK_BUILD/cg-forbidden" "$WS/bin/mount"
cp "$ATK_BUILD/cg-forbidden" "$WS/bin/helper"
T=$WS/t
FORBIDDEN=$WS/bin/mount
INNOCENT=$WS/bin/helper

unset GUARD_CONFIG LD_PRELOAD
export HOME=$WS
export PATH=$WS/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin

# guard ARGS...: guard-exec with the workspace, from inside it; stdout in
# $WS/.out, stderr in $WS/.err, status in $GUARD_RC.  A hung guard is cut
# off after 120 s (and counted as such by the callers).
# Each call has a ticket of its own, so the rate limit (10 runs of one
# command per minute) never turns an attack into a vacuous "blocked"; the
# state lives outside the workspace, private to this script.  A run that
# was rate limited anyway is reported as not tried (125).
GUARD_RC=0
CG_RUNS=0
export GUARD_STATE_DIR=$OUTSIDE/state

# The layers this build uses on this machine (guard-exec -v says).  The
# suite expects the kernel ones; without them it fails here, by name.
CG_LAYERS=$(cd "$OUTSIDE" && "$GUARD_EXEC" --workspace "$OUTSIDE" -v -- /bin/true 2>&1 </dev/null | sed -n 's/^guard: layers: //p')
require "guard-exec -v reporting its layers (got: '$CG_LAYERS')" test -n "$CG_LAYERS"
require "the seccomp user-notify layer (layers: $CG_LAYERS)" eval 'case $CG_LAYERS in *seccomp-notify*) true ;; *) false ;; esac'
require "Landlock (layers: $CG_LAYERS; the kernel needs CONFIG_SECURITY_LANDLOCK and lsm=landlock)" \
	eval 'case $CG_LAYERS in *landlock*) true ;; *) false ;; esac'
echo "# layers: $CG_LAYERS"

guard()
{
	CG_RUNS=$((CG_RUNS + 1))
	(cd "$WS" && timeout -k 5 120 "$GUARD_EXEC" --workspace "$WS" --ticket "adv-$$-$CG_RUNS" "$@") \
		>"$WS/.out" 2>"$WS/.err" </dev/null
	GUARD_RC=$?
	if grep -q 'blocked (rate-limit)' "$WS/.err"; then
		echo "note: run $CG_RUNS was rate limited: counted as not tried" >&2
		GUARD_RC=125
	fi
}

# guard_hidden COMMAND...: the same command under the guard, but through
# a script file.  The static check refuses an argument such as /etc/shadow
# before anything runs; an attacker hides it (in a file, a variable, a
# computed string), and the runtime layers are what must stop the attack,
# so that is what these tests exercise.
guard_hidden()
{
	{
		printf 'exec'
		printf " '%s'" "$@"
		printf '\n'
	} >"$WS/.hidden.sh"
	guard -- sh "$WS/.hidden.sh"
}

# unguarded COMMAND...: the same without the guard (baselines).
unguarded()
{
	(cd "$WS" && timeout -k 5 120 "$@") >"$WS/.out" 2>"$WS/.err" </dev/null
	GUARD_RC=$?
}

# Lines in a marker file (0 when it does not exist).
marker_count()
{
	if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# Which layer spoke in the last run: the shim and the supervisor print a
# line per denial; a refusal with no line came from the kernel (Landlock,
# rlimits, capabilities, a seccomp errno rule).
stopped_by()
{
	local layers=""
	grep -q '^guard: blocked' "$WS/.err" && layers="static check"
	grep -q '(layer preload)' "$WS/.err" && layers="${layers:+$layers, }preload shim"
	grep '^guard: denied' "$WS/.err" | grep -qv '(layer preload)' && layers="${layers:+$layers, }supervisor"
	printf '%s' "${layers:-kernel (no guard line)}"
}

# Short excerpt of the last run's output for failure messages.
last_output()
{
	{ head -c 300 "$WS/.out"; echo; head -c 300 "$WS/.err"; } | tr '\n' ' ' | tr -s ' '
}

# alive PID NAME: the pid exists, is not a zombie and runs NAME.
alive()
{
	local state
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)
	[ "$state" != Z ] || return 1
	tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}

# gap NAME LAYER WHY: an attack that is not stopped and is documented in
# tests/adversarial/GAPS.md.  Printed, not counted as a failure.
CG_GAPS=0
gap()
{
	CG_GAPS=$((CG_GAPS + 1))
	printf 'GAP  %s — %s: %s (documented in tests/adversarial/GAPS.md)\n' "$1" "$2" "$3"
}
