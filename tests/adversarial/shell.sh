#!/bin/bash
# shell.sh - shell evasions of the static check.  Each string below starts
# the forbidden program (cg-forbidden installed as $WS/bin/mount, found
# through PATH) when sh runs it; that is checked first (the baseline).
# Then `guardctl check -c` must say blocked (126), and `guard-exec -c`
# must not let the program run, whether the static check or the runtime
# stops it.  Cases marked "runtime" are ones the static check is not
# expected to see (globs); for them only the effect counts.
. "$(dirname "$0")/lib.sh"

MK=$WS/marker
B64=$(printf 'mount %s' "$MK" | base64 -w0)

# expect|string, @MK@ and @WS@ replaced.
CASES=$(cat <<'END'
static|mount @MK@
static|mo'u'nt @MK@
static|"mo"un"t" @MK@
static|\mount @MK@
static|m\ount @MK@
static|bash -c "$'\x6dount' @MK@"
static|bash -c "$'\155ount' @MK@"
static|env mount @MK@
static|env -i PATH=@WS@/bin:/usr/bin:/bin mount @MK@
static|/usr/bin/env mount @MK@
static|nice -n 5 mount @MK@
static|timeout 5 mount @MK@
static|nohup mount @MK@
static|stdbuf -o0 mount @MK@
static|setsid -w mount @MK@
static|command mount @MK@
static|exec mount @MK@
static|echo @MK@ | xargs mount
static|find @WS@ -maxdepth 0 -exec mount @MK@ \;
static|sh -c 'mount @MK@'
static|sh -c "sh -c 'mount @MK@'"
static|bash -c 'eval mount @MK@'
static|eval mount @MK@
static|$(echo mount) @MK@
static|`echo mount` @MK@
static|$(printf '\155ount') @MK@
static|a=mou; b=nt; $a$b @MK@
static|echo @B64@ | base64 -d | sh
runtime|printf 'mount @MK@' | sh
static|bash -c 'bash <<< "mount @MK@"'
static|f() { mount @MK@; }; f
static|true && mount @MK@
static|false || mount @MK@
static|(mount @MK@)
static|{ mount @MK@; }
static|if true; then mount @MK@; fi
static|bash -c '{mount,@MK@}'
static|bash -c 'x=mXunt; ${x/X/o} @MK@'
static|bash -c 'x=MOUNT; ${x,,} @MK@'
static|bash -c 'c=mount; ${!c:-$c} @MK@'
static|IFS=_; c=mount_@MK@; $c
static|echo mount | { read c; $c @MK@; }
static|bash -c 'exec -a true mount @MK@'
static|"$(command -v mount)" @MK@
static|env -S 'mount @MK@'
runtime|BASH_ENV=@WS@/bin/bashenv bash -c true
runtime|awk 'BEGIN { system("mount @MK@") }'
runtime|sed -n '1e mount @MK@' @WS@/bin/bashenv
runtime|tar -cf /dev/null --checkpoint=1 --checkpoint-action=exec='mount @MK@' @WS@/bin/bashenv
runtime|find @WS@/bin -maxdepth 0 -exec sh -c 'mount "$1"' _ @MK@ \;
runtime|git -c alias.x='!mount @MK@' x
runtime|@WS@/bin/mo?nt @MK@
runtime|@WS@/bin/m[o]unt @MK@
END
)

printf 'mount %s\n' "$MK" >"$WS/bin/bashenv"

while IFS='|' read -r expect template; do
	[ -n "$template" ] || continue
	s=${template//@MK@/$MK}
	s=${s//@WS@/$WS}
	s=${s//@B64@/$B64}
	name="shell: $template"
	rm -f "$MK"
	unguarded sh -c "$s"
	if [ "$(marker_count "$MK")" -eq 0 ]; then
		fail "$name" "static check" "baseline: sh -c does not start the program even without the guard ($(last_output))"
		continue
	fi
	rm -f "$MK"
	(cd "$WS" && "$GUARDCTL" check --workspace "$WS" -c "$s") >"$WS/.out" 2>"$WS/.err" </dev/null
	check_rc=$?
	check_msg=$(head -n1 "$WS/.err")
	guard -c "$s"
	ran=$(marker_count "$MK")
	if [ "$ran" -ne 0 ]; then
		fail "$name" "static check, then seccomp exec check" "the forbidden program ran (guard-exec exit $GUARD_RC; guardctl check exit $check_rc)"
	elif [ "$GUARD_RC" -eq 125 ] || [ "$GUARD_RC" -eq 124 ]; then
		fail "$name" "static check, then seccomp exec check" "guard-exec exited $GUARD_RC ($(last_output))"
	elif [ "$expect" = static ] && [ "$check_rc" -ne 126 ]; then
		fail "$name" "static check" "guardctl check -c exited $check_rc, not 126 (the runtime stopped it: guard-exec exit $GUARD_RC)"
	elif [ "$expect" = static ]; then
		ok "$name" "static check ($check_msg)"
	elif [ "$check_rc" -eq 126 ]; then
		ok "$name" "static check ($check_msg)"
	else
		ok "$name" "seccomp exec check (static check allowed it: exit $check_rc)"
	fi
done <<<"$CASES"

# Control: an innocent name through the same path runs.
rm -f "$MK"
guard -c "helper $MK"
check "shell: control: guard-exec -c 'helper MARKER' runs" "all layers allow" \
	"it did not run (exit $GUARD_RC; $(last_output))" test "$(marker_count "$MK")" -eq 1

finish
