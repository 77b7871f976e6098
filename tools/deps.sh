#!/bin/sh
# tools/deps.sh - install the Debian packages that building and testing
# gatewayd need, and only those that are missing.  Idempotent; says
# nothing when everything is there.  Not root: prints the apt-get line
# to run and exits 1.  Not Debian: lists what is needed and carries on.
#
# usage: tools/deps.sh [package ...]	(extra packages to make sure of)

# build: compiler, autotools; libraries: OpenSSL, Berkeley DB 5.3, Check;
# curl: the demo waits for the gateway with it; tests/check_install also
# needs wget (gatewayctl status without curl), dash (the scripts are
# POSIX sh) and mandoc (lints the manual pages).
PKGS="build-essential autoconf automake pkg-config libssl-dev libdb-dev check curl"
PKGS="$PKGS wget dash mandoc"
PKGS="$PKGS $*"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian system; make sure you have the equivalents of:" >&2
	echo "deps:   $PKGS" >&2
	exit 0
fi

missing=
for p in $PKGS; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: as root, run:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # $missing is a list of words
apt-get -q update >/dev/null &&
	apt-get -q install -y --no-install-recommends $missing
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "deps: apt-get failed (exit $rc)" >&2
	exit 1
fi
exit 0
