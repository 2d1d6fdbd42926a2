#!/bin/sh
# Install the Debian packages the test suite needs, idempotently and quietly:
#   chromium    - the dashboard's browser tests (Playwright drives Debian's chromium)
#   yosys       - synthesis statistics and Verilog export of the rtl_sim PEs
#   postgresql  - a real server for the shared-store tests (started by the tests on loopback)
#   dataset-fashion-mnist - real images for the Fashion-MNIST accuracy probe
# Packages already present are skipped; uses apt-get as root, `sudo -n apt-get` otherwise.
# With arguments, only those of the packages above (e.g. `install-system-deps.sh dataset-fashion-mnist`).
set -eu

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v yosys >/dev/null 2>&1 || missing="$missing yosys"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || missing="$missing dataset-fashion-mnist"
if [ "$#" -gt 0 ]; then  # only the named packages (e.g. `make demo`: the dataset of its problem)
    only=""
    for pkg in $missing; do
        for want in "$@"; do [ "$pkg" = "$want" ] && only="$only $pkg"; done
    done
    missing="$only"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ]; then
    APT="apt-get"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    APT="sudo -n apt-get"
else
    echo "install-system-deps.sh: need root or passwordless sudo to install:$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! { $APT update -qq >/dev/null && $APT install -y -qq --no-install-recommends $missing >/dev/null; }; then
    echo "install-system-deps.sh: '$APT install$missing' failed (is this Debian with a reachable package mirror?)" >&2
    exit 1
fi
command -v chromium >/dev/null 2>&1 || { echo "install-system-deps.sh: chromium installed but not on PATH" >&2; exit 1; }
