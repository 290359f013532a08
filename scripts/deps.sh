#!/usr/bin/env bash
# Installs every Debian 12 package the build, the demo and the tests use.
# Idempotent: apt-get is only called when something is missing.
set -euo pipefail

pkgs=(
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libglib2.0-dev libxml2-dev libxml2-utils libtirpc-dev libnftables-dev
  nftables ebtables iptables ipset iproute2 conntrack kmod procps iperf3
  python3 python3-scapy iputils-ping
  libvirt-clients libvirt0 libvirt-dev python3-libvirt
  gettext python3-docutils groff-base
  firewalld dbus-daemon
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
