#!/usr/bin/env bash
# The main job: build nwfilterd and show it at work with the real virsh.
#
# A private "host" network namespace holds a bridge and nwfilterd; two "VM"
# namespaces are plugged into the bridge with veth pairs (vnet1, vnet2 on
# the host side, as libvirt names tap devices). virsh defines the stock
# filters and binds clean-traffic (with each VM's IP) to both ports. Then a
# legitimate ping goes through, while frames with a spoofed source IP or a
# spoofed source MAC (sent with scapy) are dropped at the bridge port.
# Everything is removed again at the end, also on failure. Run as root.
#
# BACKEND=ebiptables bash scripts/demo.sh uses the ebtables/iptables backend;
# NWF_BUILD_DIR=DIR builds and runs from DIR instead of build/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
backend=${BACKEND:-nftables}
build=${NWF_BUILD_DIR:-build}
# Debian's interpreter: scapy is a Debian package.
py=/usr/bin/python3

bash scripts/deps.sh
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null

if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (network namespaces and firewall rules)" >&2
  exit 1
fi

tag=nwf-demo-$$
host=$tag-host
vm1=$tag-vm1
vm2=$tag-vm2
work=$(mktemp -d /tmp/nwf-demo.XXXXXX)
daemon_pid=

cleanup() {
  set +e
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  for ns in "$vm1" "$vm2" "$host"; do
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "network: host namespace with bridge br0, two VMs on veth ports vnet1/vnet2"
ip netns add "$host"
ip netns add "$vm1"
ip netns add "$vm2"
ip -n "$host" link set lo up
ip -n "$host" link add br0 type bridge
ip -n "$host" link set br0 up
n=1
for vm in "$vm1" "$vm2"; do
  ip -n "$host" link add "vnet$n" type veth peer name eth0 netns "$vm"
  ip -n "$host" link set "vnet$n" master br0 up
  ip -n "$vm" link set lo up
  ip -n "$vm" link set eth0 address "52:54:00:00:00:1$n"
  ip -n "$vm" addr add "10.10.0.1$n/24" dev eth0
  ip -n "$vm" link set eth0 up
  n=$((n + 1))
done
echo "vm1: 52:54:00:00:00:11 10.10.0.11 on vnet1    vm2: 52:54:00:00:00:12 10.10.0.12 on vnet2"

step "nwfilterd ($backend backend) in the host namespace, private socket dir"
ip netns exec "$host" "$root/$build/src/daemon/nwfilterd" \
  --socket-dir "$work/run" --config-dir "$work/filters" --state-dir "$work/bindings" \
  --backend "$backend" 2>"$work/nwfilterd.log" &
daemon_pid=$!
for _ in $(seq 100); do
  [ -S "$work/run/virtnwfilterd-sock" ] && break
  sleep 0.1
done
uri="nwfilter:///system?socket=$work/run/virtnwfilterd-sock"
v() { run virsh -c "$uri" "$@"; }

step "define libvirt's stock filters with virsh"
for f in src/nwfilter/xml/*.xml; do
  virsh -q -c "$uri" nwfilter-define "$f" >/dev/null
done
v nwfilter-list

step "bind clean-traffic to both VM ports (IP parameter = the VM's address)"
n=1
for vm in vm1 vm2; do
  cat >"$work/binding-$vm.xml" <<XML
<filterbinding>
  <owner>
    <name>$vm</name>
    <uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>
  </owner>
  <portdev name='vnet$n'/>
  <mac address='52:54:00:00:00:1$n'/>
  <filterref filter='clean-traffic'>
    <parameter name='IP' value='10.10.0.1$n'/>
  </filterref>
</filterbinding>
XML
  v nwfilter-binding-create "$work/binding-$vm.xml"
  n=$((n + 1))
done
v nwfilter-binding-list
v nwfilter-binding-dumpxml vnet1

# Send COUNT frames from vm1 with the given source MAC/IP to vm2 and print
# how many echo requests vm2 saw.
probe() {
  local label=$1 mac=$2 ip=$3 seen
  ip netns exec "$vm2" "$py" scripts/demo_traffic.py sniff eth0 3 >"$work/seen" &
  local sniffer=$!
  sleep 1
  ip netns exec "$vm1" "$py" scripts/demo_traffic.py send eth0 "$mac" "$ip" \
    52:54:00:00:00:12 10.10.0.12 5
  wait "$sniffer"
  seen=$(grep -c "^$mac $ip\$" "$work/seen" || true)
  printf '%-44s sent 5, vm2 received %s\n' "$label" "$seen" >&2
  echo "$seen"
}

step "legitimate traffic: vm1 pings vm2"
run ip netns exec "$vm1" ping -c 3 -W 1 10.10.0.12

step "spoofing attempts from vm1 (scapy), counted by a sniffer in vm2"
ok=$(probe "genuine MAC and IP (control)" 52:54:00:00:00:11 10.10.0.11)
spoof_ip=$(probe "spoofed source IP 10.10.0.99" 52:54:00:00:00:11 10.10.0.99)
spoof_mac=$(probe "spoofed source MAC 52:54:00:de:ad:01" 52:54:00:de:ad:01 10.10.0.11)
echo "genuine: $ok/5 delivered   spoofed IP: $spoof_ip/5 delivered   spoofed MAC: $spoof_mac/5 delivered"

step "the kernel rules for vnet1 and vnet2"
if [ "$backend" = nftables ]; then
  # vnet1 and vnet2 share one group of chains; their addresses are set
  # elements keyed by port
  ip netns exec "$host" nft list map bridge nwfilter eth_out
  group=$(ip netns exec "$host" nft list map bridge nwfilter eth_out |
          grep -o '"vnet1" : jump [^ ,]*' | sed 's/.*jump //')
  [ -z "$group" ] || ip netns exec "$host" nft list chain bridge nwfilter "${group%/out}/out/ipv4-ip"
  ip netns exec "$host" nft list set bridge nwfilter v/out/ip_saddr/0 || true
else
  ip netns exec "$host" ebtables -t nat -L | head -12
fi

step "remove the bindings and filters again"
v nwfilter-binding-delete vnet1
v nwfilter-binding-delete vnet2
v nwfilter-undefine clean-traffic

if [ "$ok" -ge 1 ] && [ "$spoof_ip" -eq 0 ] && [ "$spoof_mac" -eq 0 ]; then
  step "result: legitimate traffic delivered, spoofed traffic dropped"
else
  step "result: UNEXPECTED (genuine $ok, spoofed IP $spoof_ip, spoofed MAC $spoof_mac)"
  exit 1
fi
