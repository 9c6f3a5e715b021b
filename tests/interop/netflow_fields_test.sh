#!/usr/bin/env bash
# Interop: the optional flow key fields and the sampling announcement, as real decoders read them.
# A small capture (written here) holds one UDP 5-tuple in three flows that differ only in the
# source MAC or the top MPLS label (a fourth packet group differs only in the MPLS TTL, which is
# not keyed). `xflowd -r --flow-key-macs --flow-key-mpls` exports it as v9 and IPFIX to nfcapd
# in a private network namespace while tcpdump captures the export; then:
#   - nfdump (`%ismc %idmc %mpls1 %pkt`): exactly the three flows, each with its MACs, label and
#     packet count;
#   - tshark: the data records carry cflow.srcmac / cflow.dstmac / cflow.mpls_label; nothing
#     malformed, no expert warning; the options data say deterministic 1 in 1 (and, in IPFIX,
#     selectorAlgorithm 1, samplingSize 1, samplingPopulation 1);
#   - a second export with `-s 2`: the options data say random 1 in 2 (v9 algorithm 2; IPFIX
#     samplingAlgorithm 2, selectorAlgorithm 3, samplingSize 1, samplingPopulation 2).
# Usage: netflow_fields_test.sh BUILD_DIR. Needs root (network namespace); exit 77 = skipped.
# KEEP=1 keeps the work dir.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 2
xflowd=$build/agent/xflowd
py=/usr/bin/python3

xf_need_root
xf_need_tools 77 nfcapd nfdump tshark tcpdump unshare ip ss "$py"
[ -x "$xflowd" ] || { echo "FAIL: $xflowd is not built"; exit 1; }

xf_private_netns "$@"
xf_work nffields

# The capture: Ethernet, one MPLS label (S=1), IPv4 UDP 10.1.0.1:1000 -> 10.1.0.2:2000, 100 IP
# bytes, 10 ms apart. Groups: (src MAC, label, TTL, packets).
pcap=$work/fields.pcap
"$py" - "$pcap" <<'PY'
import struct, sys
groups = [("02:00:00:00:00:01", 100, 64, 10), ("02:00:00:00:00:03", 100, 64, 7),
          ("02:00:00:00:00:01", 200, 64, 5), ("02:00:00:00:00:01", 100, 63, 3)]
dst = bytes.fromhex("020000000002")
def csum(b):
    s = sum(struct.unpack("!10H", b))
    s = (s & 0xFFFF) + (s >> 16)
    return (~((s & 0xFFFF) + (s >> 16))) & 0xFFFF
out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
t = 1767225600.0
for smac, label, ttl, n in groups:
    for _ in range(n):
        udp = struct.pack("!HHHH", 1000, 2000, 80, 0) + bytes(72)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 100, 1, 0, 64, 17, 0,
                         bytes([10, 1, 0, 1]), bytes([10, 1, 0, 2]))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        mpls = struct.pack("!I", (label << 12) | 0x100 | ttl)
        frame = dst + bytes.fromhex(smac.replace(":", "")) + b"\x88\x47" + mpls + ip + udp
        t += 0.01
        out.append(struct.pack("<IIII", int(t), int(t % 1 * 1e6), len(frame), len(frame)) + frame)
open(sys.argv[1], "wb").write(b"".join(out))
PY
[ -s "$pcap" ] || { echo "FAIL: could not write the capture"; exit 1; }

# export VERSION SAMPLING: xflowd -r into nfcapd with tcpdump capturing.
export_run() {
  local v=$1 s=$2 d=$work/v$1-s$2 port=$((22000 + $1 * 10 + $2))
  mkdir -p "$d/nfcapd"
  # A listener for every run: datagrams a closed port refuses count as lost, and -r then
  # exits 1 (docs/metrics.md).
  nfcapd -b 127.0.0.1 -p "$port" -w "$d/nfcapd" >"$d/nfcapd.log" 2>&1 &
  nfcapd_pid=$!
  pids+=("$nfcapd_pid")
  wait_for udp_listening "$port" || fail "v$v: nfcapd did not start"
  tcpdump -i lo -n -U --immediate-mode -B 65536 -Z root -w "$d/export.pcap" "udp dst port $port" 2>"$d/tcpdump.log" &
  local tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  wait_for grep -q "listening on" "$d/tcpdump.log" || fail "v$v: tcpdump did not start"
  local args=(-r "$pcap" --netflow "127.0.0.1:$port" --netflow-version "$v" -q
    --flow-key-macs --flow-key-mpls)
  [ "$s" != 1 ] && args+=(-s "$s" --seed 3)
  timeout 60 "$xflowd" "${args[@]}" >"$d/xflowd.log" 2>&1 || fail "v$v -s $s: xflowd exited $?"
  sleep 0.5
  stop "$tcpdump_pid"
  stop "$nfcapd_pid"
}

# tshark FIELD... on a run's export, one line per value (comma-separated occurrences split).
ts() {
  local d=$1 port=$2
  shift 2
  local f=() x
  for x in "$@"; do f+=(-e "$x"); done
  tshark -r "$d/export.pcap" -d "udp.port==$port,cflow" -T fields -E separator=' ' "${f[@]}" \
    2>/dev/null | tr ',' '\n' | sed '/^ *$/d'
}

for v in 9 10; do
  label="v$v"
  [ "$v" = 10 ] && label="IPFIX"
  export_run "$v" 1
  export_run "$v" 2
  d=$work/v$v-s1
  port=$((22000 + v * 10 + 1))

  # nfdump: one line per flow, MACs, label and packets.
  got=$(nfdump -R "$d/nfcapd" -q -N -o 'fmt:%ismc %idmc %mpls1 %pkt' 2>"$d/nfdump.err" |
    awk '{ sub(/-.*/, "", $3); print $1, $2, $3, $4 }' | sort)
  want=$(printf '%s\n' "02:00:00:00:00:01 02:00:00:00:00:02 100 13" \
    "02:00:00:00:00:01 02:00:00:00:00:02 200 5" "02:00:00:00:00:03 02:00:00:00:00:02 100 7" | sort)
  if [ "$got" = "$want" ]; then
    pass "$label nfdump: 3 flows told apart by source MAC and MPLS label, packets exact"
  else
    fail "$label nfdump: MAC/MPLS flows differ; got:"
    sed 's/^/    /' <<<"$got"
  fi

  # tshark: the data records, and nothing malformed.
  bad=$(tshark -r "$d/export.pcap" -d "udp.port==$port,cflow" \
    -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null | wc -l)
  [ "$bad" -eq 0 ] && pass "$label tshark: no malformed packet, no expert warning" ||
    fail "$label tshark: $bad datagrams malformed or with expert warnings"
  macs=$(ts "$d" "$port" cflow.srcmac | sort | uniq | tr '\n' ' ')
  labels=$(ts "$d" "$port" cflow.mpls_label | sort -n | uniq | tr '\n' ' ')
  if [ "$macs" = "02:00:00:00:00:01 02:00:00:00:00:03 " ] && [ "$labels" = "100 200 " ]; then
    pass "$label tshark: data records carry the source MACs ($macs) and MPLS labels ($labels)"
  else
    fail "$label tshark: source MACs '$macs', MPLS labels '$labels'"
  fi

  # tshark: the sampling the options data announce, unsampled and 1 in 2.
  for s in 1 2; do
    d=$work/v$v-s$s
    port=$((22000 + v * 10 + s))
    fields=(cflow.sampling_interval cflow.sampling_algorithm)
    want_opts="$s $((s == 1 ? 1 : 2))"
    if [ "$v" = 10 ]; then
      fields+=(cflow.selector_algorithm cflow.sampling_size cflow.sampling_population)
      want_opts="$want_opts $((s == 1 ? 1 : 3)) 1 $s"
    fi
    got_opts=$(tshark -r "$d/export.pcap" -d "udp.port==$port,cflow" -Y cflow.sampling_interval \
      -T fields -E separator=' ' $(printf -- '-e %s ' "${fields[@]}") 2>/dev/null | sort -u)
    if [ "$got_opts" = "$want_opts" ]; then
      pass "$label tshark: sampling 1 in $s announced as '${fields[*]}' = $got_opts"
    else
      fail "$label tshark: sampling 1 in $s: '${fields[*]}' = '$got_opts', want '$want_opts'"
    fi
  done
done

xf_finish "PASS: netflow key fields and sampling interop"
