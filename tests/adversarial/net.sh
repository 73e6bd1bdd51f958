#!/bin/bash
# net.sh - egress and listening.  The "outside world" is a network
# namespace that this script creates (a veth pair, 10.200.0.1/2 and
# fd00:cg::1/2) with listeners that log every contact; an attack is
# stopped when the listener's log holds nothing but READY.  Unix sockets
# outside the allowed paths get the same treatment.
. "$(dirname "$0")/lib.sh"

require "ip(8) and network namespaces (ip netns add)" command -v ip
# Concurrent runs of this script (several build dirs) share the host's
# routing table: one at a time.
exec 9>/run/cg-adv-net.lock
flock -w 120 9 || { fail "net" "setup" "could not take /run/cg-adv-net.lock"; finish; exit 1; }

NS=cgadv$$
VETH=cgv$$
CG_CLEANUP+=("ip link del $VETH" "ip netns del $NS")
ip netns add "$NS" &&
	ip link add "$VETH" type veth peer name "${VETH}p" &&
	ip link set "${VETH}p" netns "$NS" &&
	ip addr add 10.200.0.1/24 dev "$VETH" &&
	ip addr add fd00:c9::1/64 dev "$VETH" nodad &&
	ip link set "$VETH" up &&
	ip -n "$NS" addr add 10.200.0.2/24 dev "${VETH}p" &&
	ip -n "$NS" addr add fd00:c9::2/64 dev "${VETH}p" nodad &&
	ip -n "$NS" link set "${VETH}p" up &&
	ip -n "$NS" link set lo up
require "a network namespace with a veth pair (ip netns add $NS)" ip -n "$NS" addr show dev "${VETH}p"

# The attacks aim at addresses that no policy allows; the default list of
# registry hosts is resolved through DNS when a run first connects, which
# costs up to 5 s per run where the resolver is slow.  An operator file
# that empties the list keeps this script fast; everything else is the
# default policy.
printf 'version = 1;\nnetwork = { allowed_hosts = [ ]; };\n' >"$OUTSIDE/net.conf"
export GUARD_CONFIG=$OUTSIDE/net.conf

LISTENERS=()
# listen WHERE KIND ADDR LOG: start cg-listener (WHERE: ns or host) on a
# port the kernel picks, wait until it is ready; the port is in $LPORT.
listen()
{
	local where=$1 kind=$2 addr=$3 log=$4 i
	rm -f "$log"
	LPORT=
	if [ "$where" = ns ]; then
		ip netns exec "$NS" "$T/cg-listener" "$kind" "$addr" 0 "$log" &
	else
		"$T/cg-listener" "$kind" "$addr" 0 "$log" &
	fi
	LISTENERS+=($!)
	CG_CLEANUP+=("kill $!")
	for i in $(seq 50); do
		LPORT=$(sed -n 's/^READY //p' "$log" 2>/dev/null)
		[ -n "$LPORT" ] && return 0
		sleep 0.1
	done
	fail "net: listener $kind $addr" "setup" "did not become ready"
	return 1
}

contacts()
{
	grep -cv READY "$1" 2>/dev/null || true
}

# net_attack NAME LAYER LOG ATK-ARGS...: atk-net reaches the listener
# without the guard, and not with it.
net_attack()
{
	local name=$1 layer=$2 log=$3 before after
	shift 3
	before=$(contacts "$log")
	unguarded "$T_NET" "$@"
	sleep 0.2
	after=$(contacts "$log")
	if [ "$after" -le "$before" ]; then
		fail "$name" "$layer" "baseline: the listener heard nothing even without the guard ($(last_output))"
		return
	fi
	guard -- "$T_NET" "$@"
	sleep 0.3
	before=$after
	after=$(contacts "$log")
	if [ "$after" -gt "$before" ]; then
		fail "$name" "$layer" "the listener was reached (exit $GUARD_RC; $(last_output))"
	elif [ "$GUARD_RC" -eq 125 ] || [ "$GUARD_RC" -eq 124 ]; then
		fail "$name" "$layer" "guard-exec exited $GUARD_RC ($(last_output))"
	else
		ok "$name ($(grep -o 'failed: [A-Z]*' "$WS/.out" | head -n1)) [stopped by: $(stopped_by)]" "$layer"
	fi
}

TCP4=$WS/tcp4.log TCP6=$WS/tcp6.log UDP4=$WS/udp4.log UDP6=$WS/udp6.log
listen ns tcp 10.200.0.2 "$TCP4" && P_TCP4=$LPORT
listen ns tcp fd00:c9::2 "$TCP6" && P_TCP6=$LPORT
listen ns udp 10.200.0.2 "$UDP4" && P_UDP4=$LPORT
listen ns udp fd00:c9::2 "$UDP6" && P_UDP6=$LPORT

L="preload shim, supervisor connect/sendto check (egress allowlist)"
# Each attack twice: a dynamic attacker (the shim answers first) and a
# static one (only the supervisor can).
for atk in atk-net atk-net-static; do
	T_NET=$T/$atk
	kind=dynamic
	[ $atk = atk-net-static ] && kind=static
	net_attack "net: TCP connect over IPv4 to a non-allowed address ($kind)" "$L" "$TCP4" tcp 10.200.0.2 $P_TCP4
	net_attack "net: TCP connect over IPv6 to a non-allowed address ($kind)" "$L" "$TCP6" tcp fd00:c9::2 $P_TCP6
	net_attack "net: TCP fast open (sendto with MSG_FASTOPEN, no connect) ($kind)" "$L" "$TCP4" tcp-fastopen 10.200.0.2 $P_TCP4
	net_attack "net: TCP to the IPv4-mapped IPv6 address ::ffff:10.200.0.2 ($kind)" "$L" "$TCP4" tcp ::ffff:10.200.0.2 $P_TCP4
	net_attack "net: UDP sendto the IPv4-mapped IPv6 address ::ffff:10.200.0.2 ($kind)" "$L" "$UDP4" udp-sendto ::ffff:10.200.0.2 $P_UDP4
	for ip in 10.200.0.2 fd00:c9::2; do
		log=$UDP4 port=$P_UDP4
		[ "$ip" = fd00:c9::2 ] && log=$UDP6 port=$P_UDP6
		for mode in udp-sendto udp-sendmsg udp-sendmmsg udp-connect; do
			net_attack "net: UDP $mode to $ip ($kind)" "$L" "$log" $mode $ip $port
		done
	done
done

# Loopback is allowed: the control.
LO=$WS/lo.log
listen host tcp 127.0.0.1 "$LO"
guard -- "$T/atk-net" tcp 127.0.0.1 $LPORT
sleep 0.2
check "net: control: TCP to 127.0.0.1 is allowed" "egress allowlist (loopback)" \
	"the loopback listener heard nothing (exit $GUARD_RC; $(last_output))" test "$(contacts "$LO")" -ge 1

# DNS: a run with its own mount namespace asks the supervisor's name
# server (its /etc/resolv.conf says so), which answers for the allowed
# hosts only; the real resolvers are not in the allowlist, so no question
# about another name leaves the machine (the channel GAPS.md described).
ns=$(awk '/^nameserver/ { print $2; exit }' /etc/resolv.conf)
if [ -n "$ns" ]; then
	guard -- "$T/atk-net" udp-sendto "$ns" 53
	if grep -q 'udp-sendto: ok' "$WS/.out"; then
		fail "net: UDP to the resolver $ns:53 (DNS queries for any name)" "egress allowlist, run's name server" \
			"a datagram was sent"
	else
		ok "net: UDP to the resolver $ns:53 is refused" "egress allowlist, run's name server"
	fi
	name="cg-exfil-$$.example.com"
	GUARD_PRELOAD=/nonexistent guard -- getent hosts "$name"
	if [ "$GUARD_RC" -eq 0 ]; then
		fail "net: a lookup of $name" "run's name server" "it resolved: $(last_output)"
	elif ! grep -q "denied dns $name" "$WS/.err"; then
		fail "net: a lookup of $name" "run's name server" "not refused by the run's name server ($(last_output))"
	else
		ok "net: a lookup of a name outside the allowlist is answered NXDOMAIN by the run's name server" \
			"run's name server"
	fi
	# What reaches the real name server: guard-exec itself runs in a mount
	# namespace of this test's where /etc/resolv.conf names a logging server
	# on 127.0.0.77.  A NUL smuggled into a label, and a question straight
	# to that loopback server, must both never reach it; an allowed name
	# must (the control: the path is real).
	DNSLOG=$OUTSIDE/dns-upstream.log
	printf 'nameserver 127.0.0.77\n' >"$OUTSIDE/resolv.fake"
	cat >"$OUTSIDE/in-fake-dns.sh" <<EOS
#!/bin/sh
exec /usr/bin/unshare -m --propagation private /bin/sh -c '/usr/bin/mount --bind "\$0" /etc/resolv.conf && shift && exec "\$@"' \\
	"$OUTSIDE/resolv.fake" sh "$GUARD_EXEC" "\$@"
EOS
	chmod +x "$OUTSIDE/in-fake-dns.sh"
	saved_guard_exec=$GUARD_EXEC
	GUARD_EXEC=$OUTSIDE/in-fake-dns.sh
	# absolute paths: the suite's PATH starts with a fake mount
	/usr/bin/unshare -m --propagation private /bin/sh -c "/usr/bin/mount --bind '$OUTSIDE/resolv.fake' /etc/resolv.conf &&
		exec /usr/bin/python3 '$SRCDIR/tests/adversarial/dnsprobe.py' upstream 127.0.0.77 '$DNSLOG'" &
	CG_CLEANUP+=("kill $! 2>/dev/null")
	for i in $(seq 50); do grep -q ready "$DNSLOG" 2>/dev/null && break; sleep 0.1; done
	# -I: nothing the earlier attacks left in the workspace is imported
	cp "$SRCDIR/tests/adversarial/dnsprobe.py" "$WS/dnsprobe.py"
	asked=0
	guard --allow-net allowed.example -- /usr/bin/python3 -I dnsprobe.py ask auto allowed.example nul
	grep -qE '^(rcode=|timeout|error=)' "$WS/.out" && asked=$((asked + 1))
	guard --allow-net allowed.example -- /usr/bin/python3 -I dnsprobe.py ask 127.0.0.77 cg-direct.attacker.example
	grep -qE '^(rcode=|timeout|error=)' "$WS/.out" && asked=$((asked + 1))
	direct=$(last_output)
	guard --allow-net allowed.example -- /usr/bin/python3 -I dnsprobe.py ask auto allowed.example
	grep -qE '^(rcode=|timeout|error=)' "$WS/.out" && asked=$((asked + 1))
	control=$(last_output)
	GUARD_EXEC=$saved_guard_exec
	sleep 0.2
	if ! grep -q ready "$DNSLOG" 2>/dev/null || [ "$asked" -ne 3 ]; then
		fail "net: the run's name server passes on only what it judged" "run's name server" \
			"set-up: the logging name server did not start, or the probes did not run ($asked of 3; $(last_output))"
	else
		check "net: control: an allowed name reaches the real name server" "run's name server" \
			"$(cat "$DNSLOG"); $control" grep -q allowed "$DNSLOG"
		check "net: a NUL smuggled into a label never reaches the real name server" "run's name server" \
			"$(cat "$DNSLOG")" eval '! grep -q SECRET "$DNSLOG"'
		check "net: a question straight to a loopback name server never reaches it" \
			"egress (port 53 only to the run's name server)" "$(cat "$DNSLOG"); $direct" \
			eval '! grep -q cg-direct "$DNSLOG"'
	fi
	unguarded getent hosts registry.npmjs.org
	if [ "$GUARD_RC" -ne 0 ]; then
		fail "net: an allowed host resolves through the run's name server" "run's name server" \
			"baseline: this machine cannot resolve registry.npmjs.org ($(last_output))"
	else
		GUARD_PRELOAD=/nonexistent guard --allow-net registry.npmjs.org -- getent hosts registry.npmjs.org
		check "net: an allowed host resolves through the run's name server" "run's name server" \
			"exit $GUARD_RC ($(last_output))" test "$GUARD_RC" -eq 0
	fi
fi

# The address race: a second thread swaps the destination between
# loopback (allowed; a listener there answers) and 10.200.0.2 while the
# main thread connects or sends.  The outside listener must hear nothing.
# Both ends of the swap need the same port: the outside listener picks it,
# the loopback one takes the same.
listen ns tcp 10.200.0.2 "$WS/race-tcp.log" && P_RACE_TCP=$LPORT
listen ns udp 10.200.0.2 "$WS/race-udp.log" && P_RACE_UDP=$LPORT
"$T/cg-listener" tcp 127.0.0.1 "$P_RACE_TCP" "$WS/lo2.log" & CG_CLEANUP+=("kill $!")
"$T/cg-listener" udp 127.0.0.1 "$P_RACE_UDP" "$WS/lo2u.log" & CG_CLEANUP+=("kill $!")
sleep 0.3
for kind in tcp udp; do
	log=$WS/race-$kind.log
	port=$P_RACE_TCP
	[ $kind = udp ] && port=$P_RACE_UDP
	# Under load the swap can lose 1000 times in a row: try thrice.
	for attempt in 1 2 3; do
		unguarded "$T/atk-net-race" $kind 1000 127.0.0.1 10.200.0.2 $port
		sleep 0.3
		base=$(contacts "$log")
		[ "$base" -gt 0 ] && break
	done
	if [ "$base" -eq 0 ]; then
		fail "net: $kind address race" "supervisor connect on its own copy" \
			"baseline: the swap never reached 10.200.0.2 without the guard in 1000 tries ($(last_output))"
		continue
	fi
	guard -- "$T/atk-net-race" $kind 1000 127.0.0.1 10.200.0.2 $port
	sleep 0.3
	after=$(contacts "$log")
	summary=$(grep tries= "$WS/.out")
	if [ -z "$summary" ]; then
		fail "net: $kind address race" "supervisor connect on its own copy" "did not run (exit $GUARD_RC; $(last_output))"
	elif [ "$after" -gt "$base" ]; then
		fail "net: $kind address race (loopback <-> 10.200.0.2, 1000 tries)" \
			"supervisor connect/sendto on its own copy of the address" \
			"10.200.0.2 was reached $((after - base)) times ($summary)"
	else
		ok "net: $kind address race: 10.200.0.2 reached 0/1000 (unguarded $base/1000; $summary)" \
			"supervisor connect/sendto on its own copy of the address"
	fi
done

# The bind race: a second thread swaps the address between 127.0.0.1 and
# 0.0.0.0 while the main thread binds and listens; the kernel's
# getsockname() says where each listening socket really listens.  Port 0:
# the kernel picks a free one, so no other test's socket can make every
# bind fail with EADDRINUSE (which once left the baseline at 0 exposed).
BIND_PORT=0
for attempt in 1 2 3; do
	unguarded "$T/atk-net-race" bind 1000 127.0.0.1 0.0.0.0 $BIND_PORT
	base=$(sed -n 's/.*exposed=\([0-9]*\).*/\1/p' "$WS/.out")
	[ "${base:-0}" -gt 0 ] && break
done
if [ "${base:-0}" -eq 0 ]; then
	fail "net: bind race (127.0.0.1 <-> 0.0.0.0)" "supervisor bind/listen check" \
		"baseline: the swap never won without the guard ($(last_output))"
else
	guard -- "$T/atk-net-race" bind 1000 127.0.0.1 0.0.0.0 $BIND_PORT
	summary=$(grep tries= "$WS/.out")
	n=$(sed -n 's/.*exposed=\([0-9]*\).*/\1/p' "$WS/.out")
	if [ -z "$summary" ]; then
		fail "net: bind race" "supervisor bind/listen check" "did not run ($(last_output))"
	elif [ "${n:-0}" -ne 0 ]; then
		fail "net: bind race (127.0.0.1 <-> 0.0.0.0, 1000 tries)" "supervisor bind/listen check" \
			"$n sockets listened on 0.0.0.0 ($summary)"
	else
		ok "net: bind race: 0/1000 sockets listen on 0.0.0.0 (unguarded $base/1000; $summary)" \
			"supervisor bind/listen check"
	fi
fi

# Listening: loopback yes, every other address no.
for addr in 127.0.0.1 ::1; do
	guard -- "$T/atk-net" listen $addr 0
	check "net: listening on $addr is allowed" "supervisor bind/listen check" \
		"it was refused ($(last_output))" grep -q LISTENING "$WS/.out"
done
for addr in 0.0.0.0 :: 10.200.0.1; do
	guard -- "$T/atk-net-static" listen $addr 0
	if grep -q LISTENING "$WS/.out"; then
		fail "net: listening on $addr" "supervisor bind/listen check" "the socket listens"
	elif ! grep -q 'failed' "$WS/.out"; then
		fail "net: listening on $addr" "supervisor bind/listen check" "the attack did not run ($(last_output))"
	else
		ok "net: listening on $addr is refused ($(grep -o 'failed: [A-Z]*' "$WS/.out" | head -n1))" \
			"supervisor bind/listen check"
	fi
done

# Unix sockets outside the allowed paths (a stand-in for the Docker and
# D-Bus sockets), abstract sockets, and the control inside the workspace.
RUNDIR=/run/cg-test-$$
mkdir -p "$RUNDIR"
CG_CLEANUP+=("rm -rf '$RUNDIR'")
UX=$WS/unix.log UXD=$WS/unixd.log UXA=$WS/unixa.log UXW=$WS/unixw.log
listen host unix "$RUNDIR/sock" "$UX"
listen host unix-dgram "$RUNDIR/dgram" "$UXD"
listen host unix "@cg-test-$$" "$UXA"
listen host unix "$WS/ws.sock" "$UXW"

# unix_attack NAME LAYER LOG ATK-ARGS...
unix_attack()
{
	local name=$1 layer=$2 log=$3 before after
	shift 3
	before=$(contacts "$log")
	unguarded "$T/atk-unix" "$@"
	sleep 0.2
	after=$(contacts "$log")
	if [ "$after" -le "$before" ]; then
		fail "$name" "$layer" "baseline: the listener heard nothing even without the guard ($(last_output))"
		return
	fi
	guard_hidden "$T/atk-unix" "$@"
	sleep 0.3
	if [ "$(contacts "$log")" -gt "$after" ]; then
		fail "$name" "$layer" "the listener was reached (exit $GUARD_RC; $(last_output))"
	elif [ "$GUARD_RC" -eq 125 ] || [ "$GUARD_RC" -eq 124 ]; then
		fail "$name" "$layer" "guard-exec exited $GUARD_RC ($(last_output))"
	else
		ok "$name ($(grep -o 'failed: [A-Z]*' "$WS/.out" | head -n1))" "$layer"
	fi
}
unix_attack "net: connect to a Unix socket under /run" "Landlock (make_sock/connect scope), supervisor connect check" \
	"$UX" stream "$RUNDIR/sock"
unix_attack "net: sendto a Unix datagram socket under /run" "Landlock, supervisor sendto check" \
	"$UXD" dgram "$RUNDIR/dgram"
unix_attack "net: connect to an abstract Unix socket outside the run" "Landlock abstract-socket scope" \
	"$UXA" stream "@cg-test-$$"
# The path race on connect(2): a second thread swaps sun_path between a
# socket in the workspace and one outside, of the same length.
UXR_ALLOWED=$WS/u.sock
UXR_DIR=/run/cgr$$
mkdir -p "$UXR_DIR"
CG_CLEANUP+=("rm -rf '$UXR_DIR'")
UXR_DENIED=$UXR_DIR/$(printf '%*s' $((${#UXR_ALLOWED} - ${#UXR_DIR} - 1)) '' | tr ' ' s)
listen host unix "$UXR_ALLOWED" "$WS/uxr-allowed.log"
listen host unix "$UXR_DENIED" "$WS/uxr-denied.log"
for attempt in 1 2 3; do
	unguarded "$T/atk-net-race" unix 1000 "$UXR_ALLOWED" "$UXR_DENIED" 0
	sleep 0.3
	base=$(contacts "$WS/uxr-denied.log")
	[ "$base" -gt 0 ] && break
done
if [ "$base" -eq 0 ]; then
	fail "net: Unix socket path race" "supervisor connect on a pinned path" \
		"baseline: the swap never reached the outside socket without the guard"
else
	guard_hidden "$T/atk-net-race" unix 1000 "$UXR_ALLOWED" "$UXR_DENIED" 0
	sleep 0.3
	after=$(contacts "$WS/uxr-denied.log")
	summary=$(grep tries= "$WS/.out")
	if [ -z "$summary" ]; then
		fail "net: Unix socket path race" "supervisor connect on a pinned path" "did not run ($(last_output))"
	elif [ "$after" -gt "$base" ]; then
		fail "net: Unix socket path race (workspace <-> /run, 1000 tries)" "supervisor connect on a pinned path" \
			"the outside socket was reached $((after - base)) times ($summary)"
	else
		ok "net: Unix socket path race: the outside socket reached 0/1000 (unguarded $base/1000; $summary)" \
			"supervisor connect on a pinned path"
	fi
fi

guard -- "$T/atk-unix" stream "$WS/ws.sock"
sleep 0.2
check "net: control: a Unix socket in the workspace is reachable" "all layers allow" \
	"it was not ($(last_output))" test "$(contacts "$UXW")" -ge 1

finish
