#!/usr/bin/env bash
# Manual interop check (not run by ctest): wraps each golden NetFlow/IPFIX message in a pcap as
# a UDP packet (v5/v9 to port 2055, IPFIX to 4739) and decodes it with tshark. Fails if tshark
# reports a malformed packet or any expert info of severity warning or above, or does not see
# the message as cflow. -v prints the `tshark -V` decode to compare with the hex comments.
#
# Usage: tshark_check.sh [-v] [file.hex ...]   (default: every tests/testdata/netflow/*.hex)
set -euo pipefail

verbose=0
if [[ "${1:-}" == "-v" ]]; then
  verbose=1
  shift
fi
here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -eq 0 ]]; then
  set -- "$here"/../../testdata/netflow/*.hex
fi
for tool in tshark text2pcap xxd; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=0
for hex in "$@"; do
  name=$(basename "$hex" .hex)
  port=2055
  [[ "$name" == ipfix* ]] && port=4739
  sed 's/#.*//' "$hex" | tr -d ' \t\r\n' | xxd -r -p | od -Ax -tx1 -v >"$tmp/$name.txt"
  text2pcap -q -4 192.0.2.10,192.0.2.100 -u 40000,$port "$tmp/$name.txt" "$tmp/$name.pcap" \
    >/dev/null 2>&1
  args=(-d "udp.port==$port,cflow")
  tshark -r "$tmp/$name.pcap" "${args[@]}" -V >"$tmp/$name.decode" 2>&1
  malformed=$(tshark -r "$tmp/$name.pcap" "${args[@]}" -Y '_ws.malformed' 2>/dev/null | wc -l)
  experts=$(tshark -r "$tmp/$name.pcap" "${args[@]}" -Y '_ws.expert.severity >= 6291456' \
    2>/dev/null | wc -l)
  cflow=$(tshark -r "$tmp/$name.pcap" "${args[@]}" -Y 'cflow.version' 2>/dev/null | wc -l)
  if [[ "$malformed" != 0 || "$experts" != 0 || "$cflow" != 1 ]]; then
    echo "FAIL $name: malformed=$malformed warnings=$experts decoded_as_cflow=$cflow"
    failed=1
  else
    echo "ok   $name"
  fi
  if [[ $verbose == 1 ]]; then
    sed -n '/^Cisco NetFlow/,$p' "$tmp/$name.decode"
  fi
done
exit $failed
