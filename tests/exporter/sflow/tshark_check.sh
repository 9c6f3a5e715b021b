#!/usr/bin/env bash
# Manual interop check (not run by ctest): wraps each golden sFlow datagram in a pcap as a UDP
# packet to port 6343 and decodes it with tshark. Fails if tshark reports a malformed packet or
# any expert info of severity warning or above, so a golden that only our own tests accept is
# caught. Limits (tshark 4.0): the sFlow dissector does not flag a wrong length word, and it
# shows discarded_packet (0:5), port_name (0:1005) and extended_timestamp (0:1043) as unknown
# formats (skipped by their length, not decoded). Lengths are checked by the record walk in
# sflow_encoder_test.cc; read the -v output to compare decoded values with the hex comments.
#
# Usage: tshark_check.sh [-v] [file.hex ...]   (default: every tests/testdata/sflow/*.hex)
#   -v  print the full `tshark -V` decode of each datagram.
set -euo pipefail

verbose=0
if [[ "${1:-}" == "-v" ]]; then
  verbose=1
  shift
fi
here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -eq 0 ]]; then
  set -- "$here"/../../testdata/sflow/*.hex
fi
for tool in tshark text2pcap xxd; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=0
for hex in "$@"; do
  name=$(basename "$hex" .hex)
  # Strip '#' comments and whitespace, then turn the bytes into the offset dump text2pcap reads.
  sed 's/#.*//' "$hex" | tr -d ' \t\r\n' | xxd -r -p | od -Ax -tx1 -v >"$tmp/$name.txt"
  text2pcap -q -4 192.0.2.10,192.0.2.100 -u 40000,6343 "$tmp/$name.txt" "$tmp/$name.pcap" \
    >/dev/null 2>&1
  tshark -r "$tmp/$name.pcap" -V >"$tmp/$name.decode" 2>&1
  # Severity 6291456 is PI_WARN; errors (malformed fields, bad lengths) rank above it.
  malformed=$(tshark -r "$tmp/$name.pcap" -Y '_ws.malformed' 2>/dev/null | wc -l)
  experts=$(tshark -r "$tmp/$name.pcap" -Y '_ws.expert.severity >= 6291456' 2>/dev/null | wc -l)
  sflow=$(tshark -r "$tmp/$name.pcap" -Y 'sflow_245.version == 5' 2>/dev/null | wc -l)
  if [[ "$malformed" != 0 || "$experts" != 0 || "$sflow" != 1 ]]; then
    echo "FAIL $name: malformed=$malformed warnings=$experts decoded_as_sflow5=$sflow"
    failed=1
  else
    echo "ok   $name"
  fi
  if [[ $verbose == 1 ]]; then
    sed -n '/^InMon sFlow/,$p' "$tmp/$name.decode"
  fi
done
exit $failed
