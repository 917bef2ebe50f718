#!/usr/bin/env bash
# packaging/nvmfd.service passes `systemd-analyze verify` (with ExecStart pointed at the built
# nvmfd; Documentation= is checked by the package test, against the packaged man pages), and
# keeps the promises of issue 18: Type=notify, a watchdog, config in /etc/nvmfd, socket under
# /run, state under /var/lib, and an ExecReload that only sends SIGHUP (which changes nothing:
# notify_test.py).
# Usage: systemd_unit_test.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$(cd "$1" && pwd) src=$2
unit=$src/packaging/nvmfd.service
work=$(mktemp -d /tmp/nvmfd-unit.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
sed "s|/usr/sbin/nvmfd|$bin/nvmfd|" "$unit" > "$work/nvmfd.service"
systemd-analyze verify --man=no "$work/nvmfd.service" || fail "systemd-analyze verify"
for want in '^Type=notify$' '^NotifyAccess=main$' '^WatchdogSec=' '-c /etc/nvmfd/nvmfd.json' \
            '-r /run/nvmfd/nvmfd.sock' '^RuntimeDirectory=nvmfd$' '^StateDirectory=nvmfd$' \
            '^ConfigurationDirectory=nvmfd$' '^ExecReload=/bin/kill -HUP \$MAINPID$'; do
  grep -qE -e "$want" "$unit" || fail "nvmfd.service lacks $want"
done
# The default config the package installs loads (nvmfd exits 1 on a config it cannot load).
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$src/packaging/nvmfd.json" || fail "nvmfd.json"
echo "PASS"
