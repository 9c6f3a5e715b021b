#include "tools/xflowdump/dump_options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "tools/xflowdump/udp_listener.h"

namespace xflowd::tools::xflowdump {

using hal::base::InvalidArgumentError;
using hal::base::Result;
using hal::base::Status;

namespace {

Status ParseUint(const std::string& option, const std::string& text, uint64_t max, uint64_t* out) {
  if (text.empty() || text[0] == '-' || text[0] == '+') {
    return InvalidArgumentError(option + ": '" + text + "' is not a whole number");
  }
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) {
    return InvalidArgumentError(option + ": '" + text + "' is not a whole number");
  }
  if (v > max) {
    return InvalidArgumentError(option + ": " + text + " is more than " + std::to_string(max));
  }
  *out = v;
  return Status::Ok();
}

Status ParseSeconds(const std::string& option, const std::string& text, double* out) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v <= 0) {
    return InvalidArgumentError(option + ": '" + text + "' is not a positive number of seconds");
  }
  *out = v;
  return Status::Ok();
}

}  // namespace

Result<DumpOptions> ParseDumpOptions(const std::vector<std::string>& args) {
  DumpOptions o;
  bool listen_set = false;
  Result<hal::base::Endpoint> default_listen = ParseListenAddress("", kSflowPort);
  o.listen = *default_listen;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string opt = args[i];
    std::string value;
    bool has_inline_value = false;
    // --name=value
    if (opt.rfind("--", 0) == 0) {
      const size_t eq = opt.find('=');
      if (eq != std::string::npos) {
        value = opt.substr(eq + 1);
        opt = opt.substr(0, eq);
        has_inline_value = true;
      }
    }
    auto take_value = [&](std::string* v) -> Status {
      if (has_inline_value) {
        *v = value;
        return Status::Ok();
      }
      if (i + 1 >= args.size()) return InvalidArgumentError(opt + " needs a value");
      *v = args[++i];
      return Status::Ok();
    };
    if (opt == "-h" || opt == "--help") {
      o.help = true;
    } else if (opt == "-x" || opt == "--hex") {
      o.hex = true;
    } else if (opt == "-l" || opt == "--listen") {
      XFLOWD_RETURN_IF_ERROR(take_value(&value));
      Result<hal::base::Endpoint> ep = ParseListenAddress(value, kSflowPort);
      if (!ep.ok()) return ep.status().WithContext(opt);
      o.listen = *ep;
      listen_set = true;
    } else if (opt == "-r" || opt == "--read") {
      XFLOWD_RETURN_IF_ERROR(take_value(&o.read_file));
      if (o.read_file.empty()) return InvalidArgumentError(opt + " needs a file name");
    } else if (opt == "-p" || opt == "--port") {
      XFLOWD_RETURN_IF_ERROR(take_value(&value));
      uint64_t port = 0;
      XFLOWD_RETURN_IF_ERROR(ParseUint(opt, value, 65535, &port));
      o.port = static_cast<uint16_t>(port);
      o.port_set = true;
    } else if (opt == "-o" || opt == "--output") {
      XFLOWD_RETURN_IF_ERROR(take_value(&value));
      if (value == "text") {
        o.mode = OutputMode::kText;
      } else if (value == "json") {
        o.mode = OutputMode::kJson;
      } else if (value == "summary") {
        o.mode = OutputMode::kSummary;
      } else {
        return InvalidArgumentError(opt + ": '" + value + "' is not text, json or summary");
      }
    } else if (opt == "-i" || opt == "--interval") {
      XFLOWD_RETURN_IF_ERROR(take_value(&value));
      XFLOWD_RETURN_IF_ERROR(ParseSeconds(opt, value, &o.interval_s));
    } else if (opt == "-c" || opt == "--count") {
      XFLOWD_RETURN_IF_ERROR(take_value(&value));
      XFLOWD_RETURN_IF_ERROR(ParseUint(opt, value, UINT64_MAX, &o.count));
      if (o.count == 0) return InvalidArgumentError(opt + ": the count must be at least 1");
    } else if (opt == "-t" || opt == "--time") {
      XFLOWD_RETURN_IF_ERROR(take_value(&value));
      XFLOWD_RETURN_IF_ERROR(ParseSeconds(opt, value, &o.duration_s));
    } else {
      return InvalidArgumentError("unknown option '" + args[i] + "' (see --help)");
    }
  }
  if (!o.read_file.empty() && listen_set) {
    return InvalidArgumentError("-r and -l exclude each other: read a capture or listen");
  }
  if (o.read_file.empty() && o.port_set) {
    return InvalidArgumentError(
        "-p selects the port in a capture (-r); to listen on another "
        "port use -l PORT");
  }
  return o;
}

std::string DumpUsage() {
  // Kept within 80 columns: it is read in terminals on switches and jump hosts.
  return R"(xflowdump - decode sFlow version 5 datagrams

Usage:
  xflowdump [-l [ADDR:]PORT] [options]   listen on UDP (default 0.0.0.0:6343)
  xflowdump -r FILE [-p PORT] [options]  decode the sFlow in a pcap file

Input:
  -l, --listen [ADDR:]PORT  where to receive. PORT alone: every IPv4 address.
                            -l [::]:6343 takes IPv6 and IPv4; -l 192.0.2.1:6343
                            or -l [2001:db8::1]:6343 one address.
  -r, --read FILE           read a capture instead ("-" = standard input):
                            classic pcap, as tcpdump -w writes it. Convert
                            pcapng first: editcap -F pcap in.pcapng out.pcap.
                            Ethernet (up to two VLAN tags), Linux cooked
                            (-i any), raw IP and loopback; IPv4 and IPv6. IP
                            fragments and MPLS are skipped (and counted).
  -p, --port PORT           with -r: UDP destination port of the sFlow
                            (default 6343; 0 = try every UDP datagram)

Output:
  -o, --output MODE
      text     (default) per datagram: agent, sequence number, uptime; then a
               block per sample with all its records. Sampled packet headers
               are decoded: MACs, VLANs, IPs, protocol, ports, TCP flags.
               A report follows at the end.
      json     one JSON object per line: {"datagram": {...}} with every field,
               {"error": {...}} for a malformed datagram, and a last line
               {"summary": {...}} with totals, sequence gaps, top talkers.
      summary  every -i seconds: datagrams/s, flow and counter samples/s,
               sequence gaps per agent and the top 10 talkers; a full report
               at the end.
  -i, --interval SECONDS    summary period (default 1; with -r: capture time)
  -x, --hex                 text: hex dumps of sampled headers and unknown
                            records

Stopping:
  -c, --count N             stop after N datagrams (malformed ones count)
  -t, --time SECONDS        stop after SECONDS (with -r: capture time)
  Ctrl-C stops as well; the final report is still printed.

Reading the summary:
  Sequence gaps  an agent numbers its datagrams (per collector), and each
                 data source (e.g. an ifIndex) numbers its flow samples and
                 counter samples. A gap means datagrams or samples were lost
                 between the agent and here; "missing" says how many. Numbers
                 starting again from 1 are an agent restart: a reset, not a
                 loss. Samples lost inside the agent show in "drops" instead.
  Top talkers    ranked by frame length x sampling rate: an estimate of the
                 real traffic behind the samples, from the sampled headers.
  Malformed datagrams are counted and shown with the reason (offset and
  field); they never stop xflowdump.

Exit status: 0 when the input ends, a limit is reached or a signal stops the
run; 1 if the input cannot be opened or read, or a capture file ends inside
a packet (as xflowd -r; everything before it is still shown); 2 on a usage
error.

Examples:
  xflowdump                                 watch sFlow arriving on port 6343
  xflowdump -l 127.0.0.1:16343 -o summary   rates, gaps, top talkers each second
  tcpdump -i eth0 -U -w - udp port 6343 | xflowdump -r -
  xflowdump -r x.pcap -o json | tail -n 1 | jq -e '.summary.sequence_gaps == 0'
      exit status 0 only if no datagram or sample was lost
)";
}

}  // namespace xflowd::tools::xflowdump
