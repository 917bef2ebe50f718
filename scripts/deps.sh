#!/usr/bin/env bash
# Installs the Debian 12 packages nvmfd needs to build, test and run; a no-op when present.
set -euo pipefail
pkgs=(cmake ninja-build ccache g++ clang libclang-rt-14-dev pkg-config
      libgtest-dev libgmock-dev libbenchmark-dev liburing-dev libisal-dev libssl-dev
      nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libavahi-client-dev
      avahi-daemon avahi-utils dbus dbus-bin          # tests/mdns run private ones in a netns
      tshark iperf3 python3 strace                    # strace: the ptpl durability order test
      python3-matplotlib                              # bench/charts.py (and its test)
      qemu-system-x86 nvme-cli cpio iproute2 kmod zstd xz-utils socat util-linux
      libbsd0 libnuma1 libaio1 libkeyutils1 libssl3 libuuid1   # SPDK peer's runtime (tests/spdk)
      librbd-dev librados-dev ceph-mon ceph-osd ceph-common uuid-runtime   # RBD bdev; tests/ceph cluster
      libcpp-httplib-dev prometheus                    # the metrics endpoint; its test scrapes with a real Prometheus
      librdmacm-dev libibverbs-dev ibverbs-providers rdmacm-utils ibverbs-utils   # NVMe/RDMA; rxe tests in the guest
      libsystemd-dev systemd help2man lintian)  # sd_notify; unit checks, man pages, the package (packaging/)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[deps] installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections || true
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
