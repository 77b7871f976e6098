#!/bin/sh
# tools/demo.sh - build gatewayd and run it in the foreground on a demo
# configuration that proxies to the demo origin (tests/origin), started
# alongside.  Ctrl-C stops both and removes the temporary directory.
#
# usage: tools/demo.sh
# environment: GATEWAYD_DEMO_PORT (default 8080), the gateway's port;
#              GATEWAYD_DEMO_ORIGIN_PORT (default 8081, else a free one).

top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$top" || exit 1

port=${GATEWAYD_DEMO_PORT:-8080}
oport=${GATEWAYD_DEMO_ORIGIN_PORT:-8081}
url="http://127.0.0.1:$port/"

die() {
	echo "demo: $*" >&2
	exit 1
}

# --- build ----------------------------------------------------------------
tools/deps.sh || exit 1
if [ ! -x configure ]; then
	echo "demo: autoreconf -fi"
	autoreconf -fi || die "autoreconf failed"
fi
if [ ! -f Makefile ]; then
	echo "demo: ./configure"
	./configure >/dev/null || die "./configure failed (see config.log)"
fi
echo "demo: make"
make -j2 >/dev/null || die "make failed (run make to see why)"
if [ ! -x gatewayd ] || [ ! -x tests/origin ]; then
	die "gatewayd or tests/origin was not built"
fi

# --- clean up on every way out ---------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatewayd-demo.XXXXXX") || die "mktemp failed"
opid=
gpid=
tpid=
# shellcheck disable=SC2317 # reached through the traps
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$gpid" ] && kill -TERM "$gpid" 2>/dev/null; then
		i=0
		while kill -0 "$gpid" 2>/dev/null && [ "$i" -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$gpid" 2>/dev/null
	fi
	# let tail show gatewayd's last words, then stop it
	[ -n "$tpid" ] && sleep 0.3 && kill "$tpid" 2>/dev/null
	[ -n "$opid" ] && kill -TERM "$opid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the origin: 127.0.0.1:$oport, or a free port if that one is taken -------
# start_origin PORT - sets opid and oport, or returns 1.
start_origin() {
	: >"$tmp/origin.out"
	tests/origin -v -l "127.0.0.1:$1" >"$tmp/origin.out" &
	opid=$!
	i=0
	while [ "$i" -lt 50 ]; do
		if grep -q '^listening on ' "$tmp/origin.out"; then
			oport=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' \
			    "$tmp/origin.out")
			return 0
		fi
		kill -0 "$opid" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	kill "$opid" 2>/dev/null
	wait "$opid" 2>/dev/null
	opid=
	return 1
}
# port_free PORT - nothing accepts connections on 127.0.0.1:PORT
port_free() {
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"
	[ $? -eq 7 ]
}
if ! port_free "$oport"; then
	echo "demo: 127.0.0.1:$oport is taken; the origin takes a free port"
	oport=0
fi
start_origin "$oport" || start_origin 0 || die "the demo origin did not start"
echo "demo: origin listening on 127.0.0.1:$oport (pid $opid)"

# --- is the gateway's port free? -------------------------------------------
port_free "$port" || die "something already answers on 127.0.0.1:$port;" \
    "set GATEWAYD_DEMO_PORT to another port"

# --- the demo configuration -------------------------------------------------
user=
if [ "$(id -u)" -eq 0 ]; then
	# as Apache: the master stays root, workers run unprivileged
	chmod 755 "$tmp"
	user="User nobody
Group nogroup"
fi
conf=$tmp/gateway.conf
cat >"$conf" <<CONF
# gatewayd demo configuration, written by tools/demo.sh.
ServerRoot "$tmp"
Listen 127.0.0.1:$port
PidFile $tmp/gatewayd.pid
ErrorLog $tmp/error_log
LogLevel info
LogFormat "%h %l %u %t \"%r\" %>s %b" common
CustomLog $tmp/access_log common
$user
StartServers 2
MinSpareServers 1
MaxSpareServers 4
ServerName 127.0.0.1

ProxyRequests Off
<Proxy *>
    Order deny,allow
    Allow from all
</Proxy>

ProxyPreserveHost On
ProxyPass / http://127.0.0.1:$oport/
ProxyPassReverse / http://127.0.0.1:$oport/

# The cache: responses the origin lets us keep are served from disk
# (X-Cache says HIT or MISS); try
#   curl -si '${url}size/100?header=Cache-Control:max-age=60' twice.
CacheRoot $tmp/cache
CacheEnable disk /
CacheHeader On

# Try it: stop the origin (kill $opid) and reload the page.
ErrorDocument 503 "<html><body><h1>503: the demo origin is down</h1><p>gatewayd is fine; the origin it proxies to does not answer.</p></body></html>"
CONF

echo "demo: checking the configuration: ./gatewayd -t -f $conf"
./gatewayd -t -f "$conf" || die "the demo configuration was refused"

# --- run it ---------------------------------------------------------------
: >"$tmp/error_log"
: >"$tmp/access_log"
echo "demo: ./gatewayd -f $conf -D FOREGROUND"
./gatewayd -f "$conf" -D FOREGROUND &
gpid=$!
i=0
until curl -s -o /dev/null --max-time 2 "$url"; do
	if ! kill -0 "$gpid" 2>/dev/null; then
		cat "$tmp/error_log" >&2
		gpid=
		die "gatewayd exited; its error log is above"
	fi
	[ "$i" -ge 100 ] && die "gatewayd did not answer on $url within 10 s"
	sleep 0.1
	i=$((i + 1))
done

cat <<MSG

gatewayd is running: try curl $url
  It proxies to the demo origin at http://127.0.0.1:$oport/
  (try also /echo, /status/404, /size/100).  The cache keeps what the
  origin allows: curl -si '${url}size/100?header=Cache-Control:max-age=60'
  twice says X-Cache: MISS, then HIT.
  config: $conf
  logs:   $tmp/error_log, $tmp/access_log (followed below)
Press Ctrl-C to stop gatewayd and the origin.

MSG
tail -n +1 -f "$tmp/error_log" "$tmp/access_log" &
tpid=$!
wait "$gpid"
rc=$?
gpid=
echo "demo: gatewayd exited (status $rc)"
exit "$rc"
