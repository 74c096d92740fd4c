#!/bin/sh
# Install the Debian packages that the build, the tests and the demo need.
# Idempotent: installs only what is missing. Uses sudo when not root.
set -eu
pkgs="build-essential pkg-config
libncurses-dev libpq-dev libcurl4-openssl-dev libjansson-dev libcmocka-dev
libmicrohttpd-dev libyaml-dev
postgresql postgresql-client tmux curl ca-certificates procps util-linux
prometheus gcovr cppcheck clang clang-tidy libclang-rt-14-dev
htop btop python3 python3-prometheus-client time"
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# --no-install-recommends keeps the prometheus package from pulling in
# exporters; policy-rc.d stops Debian from starting the packaged services
# (we run our own private instances).
if [ -z "$sudo" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
