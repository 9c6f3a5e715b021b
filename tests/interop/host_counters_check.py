"""Host counters interop (host_counters_test.sh): psutil's reading of the host against what
xflowd exported, and tshark's decode.

  host_counters_check.py snapshot FILE   psutil (and /proc/net/snmp) now, as JSON
  host_counters_check.py check WORKDIR   the checks, on WORKDIR's before.json, after.json,
                                         sflow.pcap (through tshark) and tshark_fields.txt

The datagrams are decoded here from the spec's XDR (sflow_version_5.txt, sflow_host.txt),
independently of xflowd's own decoder. A sample lies between the two psutil readings, so every
cumulative counter must be between them; levels (free memory, load) get a margin.
"""
import json
import os
import platform
import socket
import struct
import subprocess
import sys
import time


def snapshot(path):
    import psutil
    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()
    ct = psutil.cpu_times()
    cs = psutil.cpu_stats()
    dio = psutil.disk_io_counters(perdisk=False)
    seen, total, free, pct = set(), 0, 0, -1.0
    for p in psutil.disk_partitions(all=False):
        if p.device in seen or "\\" in p.mountpoint:
            continue
        seen.add(p.device)
        try:
            u = psutil.disk_usage(p.mountpoint)
        except OSError:
            continue
        if u.total == 0:
            continue
        total += u.total
        free += u.free
        pct = max(pct, u.percent)
    nics = psutil.net_io_counters(pernic=True)
    net = [0] * 8
    for name, n in nics.items():
        if name == "lo":
            continue
        for i, v in enumerate([n.bytes_recv, n.packets_recv, n.errin, n.dropin,
                               n.bytes_sent, n.packets_sent, n.errout, n.dropout]):
            net[i] += v
    adapters = {}
    for name, addrs in psutil.net_if_addrs().items():
        if name == "lo":
            continue
        mac = [a.address for a in addrs if a.family == psutil.AF_LINK]
        adapters[str(socket.if_nametoindex(name))] = mac[0].lower() if mac else None
    snmp = {}
    with open("/proc/net/snmp") as f:
        lines = f.read().splitlines()
    for head, vals in zip(lines[0::2], lines[1::2]):
        group = head.split(":")[0]
        snmp[group] = dict(zip(head.split()[1:], [int(x) for x in vals.split()[1:]]))
    data = {
        "time": time.time(),
        "uptime": time.time() - psutil.boot_time(),
        "load": list(os.getloadavg()),
        "cpus": psutil.cpu_count(),
        "cpu_ms": {k: getattr(ct, k) * 1000 for k in
                   ("user", "nice", "system", "idle", "iowait", "irq", "softirq")},
        "interrupts": cs.interrupts, "contexts": cs.ctx_switches,
        "mem": {"total": vm.total, "free": vm.free, "shared": vm.shared, "buffers": vm.buffers},
        "swap": {"total": sw.total, "free": sw.free},
        "disk": [dio.read_count, dio.read_bytes, dio.read_time,
                 dio.write_count, dio.write_bytes, dio.write_time],
        "space": {"total": total, "free": free, "percent": pct},
        "net": net, "adapters": adapters, "snmp": snmp,
        "hostname": socket.gethostname(), "release": platform.release(),
        "machine": platform.machine(),
    }
    with open(path, "w") as f:
        json.dump(data, f)


# ---- a decoder from the spec (only what the host sample needs) ----
class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        if self.o + n > len(self.b):
            raise ValueError("truncated at %d" % self.o)
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def f32(self):
        return struct.unpack(">f", self.take(4))[0]

    def string(self):
        n = self.u32()
        s = self.take(n)
        self.take((4 - n % 4) % 4)
        return s.decode()


MIB2 = {2007: ("Ip", ["Forwarding", "DefaultTTL", "InReceives", "InHdrErrors", "InAddrErrors",
                      "ForwDatagrams", "InUnknownProtos", "InDiscards", "InDelivers",
                      "OutRequests", "OutDiscards", "OutNoRoutes", "ReasmTimeout", "ReasmReqds",
                      "ReasmOKs", "ReasmFails", "FragOKs", "FragFails", "FragCreates"]),
        2008: ("Icmp", ["InMsgs", "InErrors", "InDestUnreachs", "InTimeExcds", "InParmProbs",
                        "InSrcQuenchs", "InRedirects", "InEchos", "InEchoReps", "InTimestamps",
                        "InAddrMasks", "InAddrMaskReps", "OutMsgs", "OutErrors",
                        "OutDestUnreachs", "OutTimeExcds", "OutParmProbs", "OutSrcQuenchs",
                        "OutRedirects", "OutEchos", "OutEchoReps", "OutTimestamps",
                        "OutTimestampReps", "OutAddrMasks", "OutAddrMaskReps"]),
        2009: ("Tcp", ["RtoAlgorithm", "RtoMin", "RtoMax", "MaxConn", "ActiveOpens",
                       "PassiveOpens", "AttemptFails", "EstabResets", "CurrEstab", "InSegs",
                       "OutSegs", "RetransSegs", "InErrs", "OutRsts", "InCsumErrors"]),
        2010: ("Udp", ["InDatagrams", "NoPorts", "InErrors", "OutDatagrams", "RcvbufErrors",
                       "SndbufErrors", "InCsumErrors"])}


def host_record(fmt, r, end):
    if fmt == 1001:
        return {"cpu_5s": r.u32(), "cpu_1m": r.u32(), "cpu_5m": r.u32(),
                "total_memory": r.u64(), "free_memory": r.u64()}
    if fmt == 2000:
        d = {"hostname": r.string(), "uuid": r.take(16).hex()}
        d["machine_type"], d["os_name"] = r.u32(), r.u32()
        d["os_release"] = r.string()
        return d
    if fmt == 2001:
        out = {}
        for _ in range(r.u32()):
            ifindex = r.u32()
            macs = [r.take(8)[:6].hex(":") for _ in range(r.u32())]
            out[str(ifindex)] = macs[0] if macs else None
        return out
    if fmt == 2003:
        d = {"load": [r.f32(), r.f32(), r.f32()]}
        for k in ("proc_run", "proc_total", "cpu_num", "cpu_speed", "uptime", "user", "nice",
                  "system", "idle", "iowait", "irq", "softirq", "interrupts", "contexts"):
            d[k] = r.u32()
        return d
    if fmt == 2004:
        d = {k: r.u64() for k in ("total", "free", "shared", "buffers", "cached", "swap_total",
                                   "swap_free")}
        d.update({k: r.u32() for k in ("page_in", "page_out", "swap_in", "swap_out")})
        return d
    if fmt == 2005:
        return {"total": r.u64(), "free": r.u64(), "part_max_used": r.u32(),
                "io": [r.u32(), r.u64(), r.u32(), r.u32(), r.u64(), r.u32()]}
    if fmt == 2006:
        return [r.u64(), r.u32(), r.u32(), r.u32(), r.u64(), r.u32(), r.u32(), r.u32()]
    if fmt in MIB2:
        group, names = MIB2[fmt]
        return {n: r.u32() for n in names}
    r.o = end
    return None


def decode(payload):
    """The host samples (2:1) of one datagram: [(sequence, {format: record})]."""
    r = Reader(payload)
    if r.u32() != 5:
        raise ValueError("not sFlow v5")
    r.take(4 if r.u32() == 1 else 16)
    r.u32(), r.u32(), r.u32()
    out = []
    for _ in range(r.u32()):
        tag, length = r.u32(), r.u32()
        end = r.o + length
        if tag in (2, 4):
            seq = r.u32()
            if tag == 2:
                w = r.u32()
                src = (w >> 24, w & 0xFFFFFF)
            else:
                src = (r.u32(), r.u32())
            recs = {}
            for _ in range(r.u32()):
                rtag, rlen = r.u32(), r.u32()
                rend = r.o + rlen
                rec = host_record(rtag & 0xFFF, r, rend) if src == (2, 1) else None
                if r.o != rend and rec is not None:
                    raise ValueError("record 0:%d: %d bytes read of %d" % (rtag, r.o - rend + rlen,
                                                                         rlen))
                r.o = rend
                if rec is not None:
                    recs[rtag] = rec
            if src == (2, 1):
                out.append((seq, recs))
        if r.o > end:
            raise ValueError("sample overran its length")
        r.o = end
    if r.o != len(payload):
        raise ValueError("bytes after the last sample")
    return out


failures = []


def check(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg)
    if not ok:
        failures.append(msg)


def between(v, a, b, slack=0):
    return min(a, b) - slack <= v <= max(a, b) + slack


def run_checks(work):
    b = json.load(open(os.path.join(work, "before.json")))
    a = json.load(open(os.path.join(work, "after.json")))
    payloads = subprocess.run(
        ["tshark", "-r", os.path.join(work, "sflow.pcap"), "-T", "fields", "-e", "udp.payload"],
        capture_output=True, text=True).stdout.split()
    samples, errors = [], []
    for i, hexp in enumerate(payloads):
        try:
            samples += decode(bytes.fromhex(hexp.replace(":", "")))
        except ValueError as e:
            errors.append("datagram %d: %s" % (i + 1, e))
    check(payloads and not errors, "%d datagrams decode by the spec (%s)" %
          (len(payloads), errors[0] if errors else "no error"))
    check(len(samples) >= 2, "%d host counter samples (entPhysicalEntry 2:1)" % len(samples))
    seqs = [s for s, _ in samples]
    check(seqs == list(range(1, len(seqs) + 1)), "host sample sequence numbers 1..%d" % len(seqs))
    want = {1001, 2000, 2001, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010}
    for seq, recs in samples:
        check(set(recs) == want, "sample %d has records %s" % (seq, sorted(recs)))
        if set(recs) != want:
            continue
        d, ad, cpu, mem = recs[2000], recs[2001], recs[2003], recs[2004]
        disk, net, proc = recs[2005], recs[2006], recs[1001]
        ok = (d["hostname"] == b["hostname"] and d["os_release"] == b["release"] and
              d["os_name"] == 2 and (d["machine_type"] == 3) == (b["machine"] == "x86_64"))
        check(ok, "sample %d host_descr %s %s (psutil: %s %s)" % (
            seq, d["hostname"], d["os_release"], b["hostname"], b["release"]))
        check(ad == b["adapters"] or ad == a["adapters"],
              "sample %d host_adapters %s (psutil: %s)" % (seq, ad, a["adapters"]))
        # CPU: ms from ticks of 10 ms, summed over CPUs.
        bad = [k for k in ("user", "nice", "system", "idle", "iowait", "irq", "softirq")
               if not between(cpu[k], b["cpu_ms"][k], a["cpu_ms"][k], 10 * b["cpus"])]
        check(not bad, "sample %d host_cpu times within psutil's (user %d ms in [%d, %d])%s" % (
            seq, cpu["user"], b["cpu_ms"]["user"], a["cpu_ms"]["user"],
            " off: " + ",".join(bad) if bad else ""))
        check(between(cpu["interrupts"], b["interrupts"], a["interrupts"]) and
              between(cpu["contexts"], b["contexts"], a["contexts"]),
              "sample %d interrupts %d and contexts %d within psutil's" % (
                  seq, cpu["interrupts"], cpu["contexts"]))
        check(cpu["cpu_num"] == b["cpus"] and between(cpu["uptime"], b["uptime"], a["uptime"], 2),
              "sample %d cpu_num %d, uptime %d s (psutil %d, %.0f..%.0f)" % (
                  seq, cpu["cpu_num"], cpu["uptime"], b["cpus"], b["uptime"], a["uptime"]))
        # Load averages move with the machine's other work: within 1 + 20% of psutil's.
        lb = [between(cpu["load"][i], b["load"][i], a["load"][i],
                      1 + 0.2 * max(b["load"][i], a["load"][i])) for i in range(3)]
        check(all(lb), "sample %d load %.2f %.2f %.2f (psutil %s .. %s)" % (
            seq, *cpu["load"], b["load"], a["load"]))
        # Memory: totals exact, levels within 256 MiB of psutil's.
        slack = 256 << 20
        ok = (mem["total"] == b["mem"]["total"] and proc["total_memory"] == b["mem"]["total"] and
              between(mem["free"], b["mem"]["free"], a["mem"]["free"], slack) and
              between(mem["buffers"], b["mem"]["buffers"], a["mem"]["buffers"], slack) and
              between(mem["shared"], b["mem"]["shared"], a["mem"]["shared"], slack) and
              mem["swap_total"] == b["swap"]["total"])
        check(ok, "sample %d host_memory total %d free %d (psutil total %d, free %d..%d)" % (
            seq, mem["total"], mem["free"], b["mem"]["total"], b["mem"]["free"],
            a["mem"]["free"]))
        check(proc["cpu_5s"] <= 10000 and proc["cpu_1m"] <= 10000 and proc["cpu_5m"] <= 10000,
              "sample %d processor %d %d %d (percent x 100)" % (
                  seq, proc["cpu_5s"], proc["cpu_1m"], proc["cpu_5m"]))
        io_ok = all(between(disk["io"][i], b["disk"][i], a["disk"][i]) for i in range(6))
        check(io_ok, "sample %d host_disk_io %s within psutil's %s .. %s" % (
            seq, disk["io"], b["disk"], a["disk"]))
        ok = (disk["total"] == b["space"]["total"] and
              between(disk["free"], b["space"]["free"], a["space"]["free"], slack) and
              abs(disk["part_max_used"] - b["space"]["percent"] * 100) <= 100)
        check(ok, "sample %d disk space %d free %d, fullest %.2f%% (psutil %d, %d, %.1f%%)" % (
            seq, disk["total"], disk["free"], disk["part_max_used"] / 100, b["space"]["total"],
            b["space"]["free"], b["space"]["percent"]))
        check(all(between(net[i], b["net"][i], a["net"][i]) for i in range(8)),
              "sample %d host_net_io %s within psutil's %s .. %s" % (seq, net, b["net"],
                                                                    a["net"]))
        gauges = {"Forwarding", "DefaultTTL", "RtoAlgorithm", "RtoMin", "RtoMax", "MaxConn",
                  "CurrEstab"}
        bad = []
        for fmt, (group, names) in MIB2.items():
            for n in names:
                v = recs[fmt][n]
                lo, hi = b["snmp"][group].get(n, 0) & 0xFFFFFFFF, a["snmp"][group].get(n, 0) & 0xFFFFFFFF
                if not (between(v, lo, hi, 4 if n in gauges else 0)):
                    bad.append("%s%s %d not in %d..%d" % (group, n, v, lo, hi))
        check(not bad, "sample %d MIB-2 IP/ICMP/TCP/UDP within /proc/net/snmp's%s" % (
            seq, ": " + "; ".join(bad[:3]) if bad else ""))

    check(a["net"][1] > b["net"][1] and a["net"][5] > b["net"][5],
          "traffic crossed the adapters during the run (psutil: %d -> %d packets in)" % (
              b["net"][1], a["net"][1]))
    moved = [recs[2006][1] for _, recs in samples if 2006 in recs]
    check(len(set(moved)) > 1, "host_net_io packets in grew between samples: %s" % moved)

    # tshark: the datagram and sample headers, the processor record; malformed only where a
    # host record (which tshark 4.0 cannot dissect) is followed by another.
    host_frames, bad_frames, tseqs, mem_ok = set(), set(), [], True
    with open(os.path.join(work, "tshark_fields.txt")) as f:
        for line in f:
            p = line.rstrip("\n").split("|")
            frame = int(p[0])
            if not p[1]:
                bad_frames.add(frame)
            types, idx, cseq = p[2].split(","), p[3].split(","), p[4].split(",")
            for t, i, s in zip(types, idx, cseq):
                if t == "2" and i == "1":
                    host_frames.add(frame)
                    tseqs.append(int(s))
            if p[5]:
                mem_ok &= all(int(x) == b["mem"]["total"] for x in p[5].split(","))
            if p[7] or p[8]:
                bad_frames.add(frame)
    check(tseqs == seqs, "tshark sees the %d host samples with their sequence numbers" %
          len(tseqs))
    check(mem_ok and host_frames, "tshark decodes the processor record (0:1001): total memory "
          "= psutil's %d" % b["mem"]["total"])
    check(bad_frames <= host_frames,
          "tshark: no malformed frame or expert note outside the host samples (%d with a host "
          "sample, where tshark 4.0 has no host dissector; %d elsewhere)" % (
              len(bad_frames & host_frames), len(bad_frames - host_frames)))
    if failures:
        print("FAIL: %d check(s) failed" % len(failures))
        sys.exit(1)
    print("PASS host counters: %d samples agree with psutil and /proc/net/snmp" % len(samples))


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        snapshot(sys.argv[2])
    else:
        run_checks(sys.argv[2])
