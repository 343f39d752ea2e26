# shellcheck shell=bash disable=SC2034
# tests/bench/lib.sh — shared by tests/bench/http and tests/bench/store (source it, do not
# run it): the Release build, a private PostgreSQL in a temporary folder, free ports, and a
# cleanup that always runs (normal exit, error, Ctrl-C, SIGTERM).
#
# The sourcing script sets PROG before sourcing, then calls bench_init. It registers what it
# starts with bench_on_exit "COMMAND" (run in reverse order at exit, errors ignored).
set -euo pipefail

BENCH_REPO=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/../.." && pwd -P)
BENCH_BUILD=$BENCH_REPO/build/release
BENCH_WORK=
BENCH_PG_DATA=
BENCH_PG_SOCK=
BENCH_PG_CONNINFO=
_bench_exit_cmds=()

say() { echo "$PROG: $*" >&2; }
die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

bench_on_exit() { _bench_exit_cmds+=("$1"); }

_bench_cleanup() {
	local status=$?
	trap - EXIT INT TERM
	set +e
	local i
	for ((i = ${#_bench_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_bench_exit_cmds[i]}" >/dev/null 2>&1
	done
	if [[ -n $BENCH_WORK && -d $BENCH_WORK ]]; then
		rm -rf -- "$BENCH_WORK"
	fi
	exit "$status"
}

# bench_init: the temporary folder (readable by the postgres and nginx worker users) and traps.
bench_init() {
	trap _bench_cleanup EXIT
	trap 'say "interrupted: stopping everything"; exit 130' INT
	trap 'say "terminated: stopping everything"; exit 143' TERM
	BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/renkei-bench.XXXXXX")
	chmod 0755 -- "$BENCH_WORK"
}

# bench_build: configures build/release once, then builds it (a no-op when up to date).
bench_build() {
	local log=$BENCH_WORK/build.log
	if [[ ! -f $BENCH_BUILD/CMakeCache.txt ]] ||
		! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$BENCH_REPO" "$BENCH_BUILD/CMakeCache.txt"; then
		say "configuring the Release build in build/release"
		rm -rf -- "$BENCH_BUILD"
		cmake -S "$BENCH_REPO" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release -DRENKEI_TESTS=OFF \
			>"$log" 2>&1 || {
			cat "$log" >&2
			die "cmake configure failed"
		}
	fi
	grep -qx 'CMAKE_BUILD_TYPE:STRING=Release' "$BENCH_BUILD/CMakeCache.txt" ||
		die "$BENCH_BUILD is not a Release build: remove it and run again"
	say "building Release (build/release)"
	cmake --build "$BENCH_BUILD" -j2 >>"$log" 2>&1 || {
		tail -n 40 "$log" >&2
		die "build failed"
	}
}

# bench_pg_start: a throw-away PostgreSQL 15 cluster (fsync off) on a Unix socket in the
# temporary folder; stopped and removed at exit. Sets BENCH_PG_CONNINFO.
bench_pg_start() {
	local dir=$BENCH_WORK/pg
	mkdir -p -- "$dir"
	if [[ $(id -u) -eq 0 ]]; then
		chown postgres: -- "$dir"
	fi
	BENCH_PG_DATA=$dir/data
	BENCH_PG_SOCK=$dir/s
	local log=$BENCH_WORK/pgctl.log
	bench_on_exit "'$BENCH_REPO/deploy/pgctl' stop '$BENCH_PG_DATA' '$BENCH_PG_SOCK'"
	say "starting a private PostgreSQL (socket $BENCH_PG_SOCK)"
	if ! PGCTL_FAST=1 "$BENCH_REPO/deploy/pgctl" init "$BENCH_PG_DATA" "$BENCH_PG_SOCK" >"$log" 2>&1 ||
		! "$BENCH_REPO/deploy/pgctl" start "$BENCH_PG_DATA" "$BENCH_PG_SOCK" >>"$log" 2>&1; then
		cat "$log" >&2
		die "PostgreSQL did not start"
	fi
	BENCH_PG_CONNINFO="host=$BENCH_PG_SOCK dbname=renkei user=renkei"
}

# bench_free_port: a TCP port that no socket uses now (listening or connected), taken below
# the kernel's ephemeral range so that no client connection grabs it meanwhile.
bench_free_port() {
	local low high port
	read -r low high </proc/sys/net/ipv4/ip_local_port_range
	high=$((low > 11000 ? low - 1 : 65535))
	low=$((high == 65535 ? 61000 : 10000))
	for _ in $(seq 1 50); do
		port=$((low + RANDOM % (high - low + 1)))
		if [[ -z $(ss -Htan "sport = :$port" 2>/dev/null) ]]; then
			echo "$port"
			return 0
		fi
	done
	die "no free TCP port found"
}

# bench_raise_nofile N: raises this shell's descriptor limit towards N (the hard limit too
# when allowed: root with CAP_SYS_RESOURCE); every process started from here inherits it.
bench_raise_nofile() {
	local want=$1 hard
	hard=$(ulimit -Hn)
	if [[ $hard != unlimited ]] && ((hard < want)); then
		ulimit -Hn "$want" 2>/dev/null || true
		hard=$(ulimit -Hn)
	fi
	if [[ $hard != unlimited ]] && ((hard < want)); then
		want=$hard
	fi
	ulimit -Sn "$want"
}

# bench_stop_pid PID [SIGNAL]: signal, wait up to 10 s, then SIGKILL.
bench_stop_pid() {
	local pid=$1 sig=${2:-TERM} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# bench_machine_ticks: clock ticks all CPUs spent in user, nice and system mode since boot,
# plus steal (time the hypervisor gave our virtual CPUs to someone else). Minus the ticks of
# the processes a benchmark runs, what is left over a run is other work disturbing it
# (processes that start and end during the run included).
bench_machine_ticks() {
	awk '$1 == "cpu" {print $2 + $3 + $4 + $9; exit}' /proc/stat
}

# bench_others_pct MACHINE_TICKS OUR_TICKS SECONDS: that leftover in % of one core (>= 0).
bench_others_pct() {
	awk -v m="$1" -v o="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { p = (m - o) / hz / s * 100; if (p < 0) p = 0; printf "%.0f", p }'
}

# bench_busy_pct: how busy the whole machine is over the next second, in % (user, nice, system
# against idle).
bench_busy_pct() {
	local a1 a2 a3 a4 b1 b2 b3 b4 a b
	read -r _ a1 a2 a3 a4 _ </proc/stat
	sleep 1
	read -r _ b1 b2 b3 b4 _ </proc/stat
	a=$((b1 + b2 + b3 - a1 - a2 - a3))
	b=$((a + b4 - a4))
	echo $((b > 0 ? 100 * a / b : 0))
}

# bench_busy_check: warns when the machine is already busy before a benchmark starts.
bench_busy_check() {
	local pct
	pct=$(bench_busy_pct)
	BENCH_BUSY_BEFORE=$pct
	if ((pct > 10)); then
		say "WARNING: the machine is ${pct}% busy before the benchmark starts (other work): figures will be low"
	fi
}

# bench_wait_quiet END: waits for a second in which the machine is < 10 % busy (nothing of the
# benchmark runs between rows, so that is other work); 1 when SECONDS reaches END first.
bench_wait_quiet() {
	while ((SECONDS < $1)); do
		(($(bench_busy_pct) < 10)) && return 0
	done
	return 1
}
