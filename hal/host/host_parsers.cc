#include "hal/host/host_parsers.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace xflowd::hal::host {
namespace detail {

size_t SplitFields(std::string_view line, std::string_view* fields, size_t max) {
  size_t n = 0;
  size_t i = 0;
  while (n < max) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    fields[n++] = line.substr(start, i - start);
  }
  return n;
}

bool ToU64(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *v = x;
  return true;
}

}  // namespace detail

namespace {

using detail::ForEachLine;
using detail::SplitFields;
using detail::ToU64;

// A signed decimal as its 32-bit two's complement (the MIB's -1).
bool ToI32Bits(std::string_view s, uint32_t* v) {
  bool neg = false;
  if (!s.empty() && s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  uint64_t x;
  if (!ToU64(s, &x)) return false;
  *v = static_cast<uint32_t>(neg ? 0 - x : x);
  return true;
}

// A non-negative decimal with an optional fraction ("0.20"), without locale or strtof.
bool ToFloat(std::string_view s, float* v) {
  const size_t dot = s.find('.');
  uint64_t whole = 0, frac = 0;
  if (!ToU64(s.substr(0, dot), &whole)) return false;
  double x = static_cast<double>(whole);
  if (dot != std::string_view::npos) {
    std::string_view f = s.substr(dot + 1);
    if (f.size() > 9) f = f.substr(0, 9);
    if (!f.empty() && !ToU64(f, &frac)) return false;
    double scale = 1;
    for (size_t i = 0; i < f.size(); ++i) scale *= 10;
    x += static_cast<double>(frac) / scale;
  }
  *v = static_cast<float>(x);
  return true;
}

base::Status Bad(const char* file, const std::string& what) {
  return base::InvalidArgumentError(std::string(file) + ": " + what);
}

}  // namespace

std::string_view TrimLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t' ||
                           text.back() == '\r' || text.back() == '\0')) {
    text.remove_suffix(1);
  }
  return text;
}

base::Status ParseLoadAvg(std::string_view text, LoadAvg* out) {
  std::string_view f[5];
  if (SplitFields(TrimLine(text), f, 5) < 4) return Bad("/proc/loadavg", "expected 5 fields");
  const size_t slash = f[3].find('/');
  uint64_t run = 0, total = 0;
  if (!ToFloat(f[0], &out->one) || !ToFloat(f[1], &out->five) || !ToFloat(f[2], &out->fifteen) ||
      slash == std::string_view::npos || !ToU64(f[3].substr(0, slash), &run) ||
      !ToU64(f[3].substr(slash + 1), &total)) {
    return Bad("/proc/loadavg", "expected \"1m 5m 15m running/total last_pid\"");
  }
  out->running = static_cast<uint32_t>(run);
  out->total = static_cast<uint32_t>(total);
  return base::Status::Ok();
}

base::Status ParseStat(std::string_view text, uint32_t clk_tck, CpuStat* out) {
  if (clk_tck == 0) return Bad("/proc/stat", "clock ticks per second is 0");
  *out = CpuStat{};
  bool have_cpu = false;
  base::Status st;
  ForEachLine(text, [&](std::string_view line) {
    if (!st.ok()) return;
    std::string_view f[12];
    const size_t n = SplitFields(line, f, 12);
    if (n == 0) return;
    if (f[0] == "cpu") {
      uint64_t t[8] = {};
      // user nice system idle iowait irq softirq steal (older kernels stop earlier)
      if (n < 5) {
        st = Bad("/proc/stat", "the cpu line has fewer than 4 times");
        return;
      }
      for (size_t i = 0; i < 8 && i + 1 < n; ++i) {
        if (!ToU64(f[i + 1], &t[i])) {
          st = Bad("/proc/stat", "the cpu line has a time that is not a number");
          return;
        }
      }
      // ticks -> ms without overflow for any realistic tick count.
      auto ms = [clk_tck](uint64_t ticks) {
        return ticks / clk_tck * 1000 + ticks % clk_tck * 1000 / clk_tck;
      };
      out->user_ms = ms(t[0]);
      out->nice_ms = ms(t[1]);
      out->system_ms = ms(t[2]);
      out->idle_ms = ms(t[3]);
      out->iowait_ms = ms(t[4]);
      out->irq_ms = ms(t[5]);
      out->softirq_ms = ms(t[6]);
      out->steal_ms = ms(t[7]);
      have_cpu = true;
    } else if (f[0].size() > 3 && f[0].substr(0, 3) == "cpu") {
      ++out->cpus;
    } else if (f[0] == "intr" && n >= 2) {
      if (!ToU64(f[1], &out->interrupts)) st = Bad("/proc/stat", "intr is not a number");
    } else if (f[0] == "ctxt" && n >= 2) {
      if (!ToU64(f[1], &out->contexts)) st = Bad("/proc/stat", "ctxt is not a number");
    }
  });
  if (!st.ok()) return st;
  if (!have_cpu) return Bad("/proc/stat", "no cpu line");
  return base::Status::Ok();
}

base::Status ParseMemInfo(std::string_view text, MemInfo* out) {
  *out = MemInfo{};
  bool have_total = false;
  base::Status st;
  ForEachLine(text, [&](std::string_view line) {
    if (!st.ok()) return;
    std::string_view f[3];
    const size_t n = SplitFields(line, f, 3);
    if (n < 2) return;
    uint64_t* dst = nullptr;
    if (f[0] == "MemTotal:") {
      dst = &out->total;
      have_total = true;
    } else if (f[0] == "MemFree:") {
      dst = &out->free;
    } else if (f[0] == "Shmem:") {
      dst = &out->shared;
    } else if (f[0] == "Buffers:") {
      dst = &out->buffers;
    } else if (f[0] == "Cached:") {
      dst = &out->cached;
    } else if (f[0] == "SwapTotal:") {
      dst = &out->swap_total;
    } else if (f[0] == "SwapFree:") {
      dst = &out->swap_free;
    }
    if (dst == nullptr) return;
    uint64_t kib;
    if (!ToU64(f[1], &kib) || (n == 3 && f[2] != "kB")) {
      st = Bad("/proc/meminfo", std::string(f[0]) + " is not \"<number> kB\"");
      return;
    }
    *dst = kib * 1024;
  });
  if (!st.ok()) return st;
  if (!have_total) return Bad("/proc/meminfo", "no MemTotal");
  return base::Status::Ok();
}

base::Status ParseVmStat(std::string_view text, VmStat* out) {
  *out = VmStat{};
  base::Status st;
  ForEachLine(text, [&](std::string_view line) {
    if (!st.ok()) return;
    std::string_view f[2];
    if (SplitFields(line, f, 2) < 2) return;
    uint64_t* dst = f[0] == "pgpgin"    ? &out->page_in
                    : f[0] == "pgpgout" ? &out->page_out
                    : f[0] == "pswpin"  ? &out->swap_in
                    : f[0] == "pswpout" ? &out->swap_out
                                        : nullptr;
    if (dst != nullptr && !ToU64(f[1], dst)) {
      st = Bad("/proc/vmstat", std::string(f[0]) + " is not a number");
    }
  });
  return st;
}

base::Status ParseUptime(std::string_view text, uint64_t* seconds) {
  std::string_view f[2];
  float up = 0;
  if (SplitFields(TrimLine(text), f, 2) < 1) return Bad("/proc/uptime", "empty");
  const size_t dot = f[0].find('.');
  if (!ToU64(f[0].substr(0, dot), seconds) || !ToFloat(f[0], &up)) {
    return Bad("/proc/uptime", "expected \"<seconds> <idle seconds>\"");
  }
  return base::Status::Ok();
}

uint32_t ParseCpuMhz(std::string_view text) {
  uint32_t mhz = 0;
  bool found = false;
  ForEachLine(text, [&](std::string_view line) {
    if (found || line.substr(0, 7) != "cpu MHz") return;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    float f;
    if (ToFloat(TrimLine(v), &f)) {
      mhz = static_cast<uint32_t>(f + 0.5f);
      found = true;
    }
  });
  return mhz;
}

bool IsDeviceFs(std::string_view filesystems, std::string_view fs_type) {
  bool dev = false;
  ForEachLine(filesystems, [&](std::string_view line) {
    std::string_view f[2];
    const size_t n = SplitFields(line, f, 2);
    if (n == 1 && f[0] == fs_type) dev = true;  // "nodev" lines have two fields
  });
  return dev;
}

base::Status ParseSnmpGroup(std::string_view text, std::string_view group, const char* const* names,
                            size_t count, uint32_t* out) {
  for (size_t i = 0; i < count; ++i) out[i] = 0;
  std::string_view header;
  std::string_view values;
  ForEachLine(text, [&](std::string_view line) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.substr(0, colon) != group) return;
    if (header.empty()) {
      header = line.substr(colon + 1);
    } else if (values.empty()) {
      values = line.substr(colon + 1);
    }
  });
  if (header.empty() || values.empty()) {
    return Bad("/proc/net/snmp", "no " + std::string(group) + " lines");
  }
  constexpr size_t kMax = 64;
  std::string_view h[kMax], v[kMax];
  const size_t nh = SplitFields(header, h, kMax);
  const size_t nv = SplitFields(values, v, kMax);
  if (nh != nv) {
    return Bad("/proc/net/snmp", std::string(group) + " has " + std::to_string(nh) + " names but " +
                                     std::to_string(nv) + " values");
  }
  for (size_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < nh; ++j) {
      if (h[j] != names[i]) continue;
      if (!ToI32Bits(v[j], &out[i])) {
        return Bad("/proc/net/snmp", std::string(group) + " " + names[i] + " is not a number");
      }
      break;
    }
  }
  return base::Status::Ok();
}

// The kernel's spellings (net/ipv4/proc.c), in the order of the sFlow records.
const char* const kSnmpIpNames[19] = {
    "Forwarding",    "DefaultTTL",      "InReceives",   "InHdrErrors", "InAddrErrors",
    "ForwDatagrams", "InUnknownProtos", "InDiscards",   "InDelivers",  "OutRequests",
    "OutDiscards",   "OutNoRoutes",     "ReasmTimeout", "ReasmReqds",  "ReasmOKs",
    "ReasmFails",    "FragOKs",         "FragFails",    "FragCreates"};
const char* const kSnmpIcmpNames[25] = {
    "InMsgs",       "InErrors",       "InDestUnreachs",   "InTimeExcds",  "InParmProbs",
    "InSrcQuenchs", "InRedirects",    "InEchos",          "InEchoReps",   "InTimestamps",
    "InAddrMasks",  "InAddrMaskReps", "OutMsgs",          "OutErrors",    "OutDestUnreachs",
    "OutTimeExcds", "OutParmProbs",   "OutSrcQuenchs",    "OutRedirects", "OutEchos",
    "OutEchoReps",  "OutTimestamps",  "OutTimestampReps", "OutAddrMasks", "OutAddrMaskReps"};
const char* const kSnmpTcpNames[15] = {
    "RtoAlgorithm", "RtoMin",       "RtoMax",      "MaxConn",   "ActiveOpens",
    "PassiveOpens", "AttemptFails", "EstabResets", "CurrEstab", "InSegs",
    "OutSegs",      "RetransSegs",  "InErrs",      "OutRsts",   "InCsumErrors"};
const char* const kSnmpUdpNames[7] = {"InDatagrams",  "NoPorts",      "InErrors",    "OutDatagrams",
                                      "RcvbufErrors", "SndbufErrors", "InCsumErrors"};

namespace {
int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool ParseMac(std::string_view text, uint8_t (&mac)[6]) {
  text = TrimLine(text);
  if (text.size() != 17) return false;
  for (size_t i = 0; i < 6; ++i) {
    const int hi = Hex(text[3 * i]), lo = Hex(text[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[3 * i + 2] != ':')) return false;
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool ParseUuid(std::string_view text, uint8_t (&uuid)[16]) {
  text = TrimLine(text);
  uint8_t b[16];
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    if (n == 32 || i + 1 >= text.size()) return false;
    const int hi = Hex(text[i]), lo = Hex(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    b[n / 2] = static_cast<uint8_t>(hi << 4 | lo);
    n += 2;
    ++i;
  }
  if (n != 32) return false;
  std::memcpy(uuid, b, 16);
  return true;
}

bool ParseDecimal(std::string_view text, uint64_t* value) { return ToU64(TrimLine(text), value); }

}  // namespace xflowd::hal::host
