// The summaries xflowdump prints: the periodic one (-o summary), the final report (text) and
// the final {"summary": {...}} JSON line. Formatting only; the numbers come from DumpStats.
#pragma once

#include <cstdint>
#include <string>

#include "hal/base/time.h"
#include "tools/xflowdump/dump_stats.h"
#include "tools/xflowdump/json_writer.h"
#include "tools/xflowdump/udp_extract.h"

namespace xflowd::tools::xflowdump {

constexpr size_t kTopTalkers = 10;
constexpr int kExtractResults = static_cast<int>(ExtractResult::kUnsupportedLink) + 1;

// What the input did, for the final report.
struct InputStats {
  bool is_pcap = false;
  std::string name;  // the file, or the address listened on
  // pcap
  uint64_t packets = 0;                    // records read
  uint64_t other_port = 0;                 // UDP, but not to the sFlow port
  uint64_t extract[kExtractResults] = {};  // by ExtractResult (kOk = UDP found)
  bool file_truncated = false;             // the file ended inside a record
  uint32_t link_type = 0;
  // live
  uint64_t receive_truncated = 0;  // datagrams larger than the receive buffer

  uint64_t& count(ExtractResult r) { return extract[static_cast<int>(r)]; }
  uint64_t count(ExtractResult r) const { return extract[static_cast<int>(r)]; }
};

// The periodic summary for the interval that ends at `now` and lasted `elapsed_s`.
void AppendIntervalSummary(const DumpStats& stats, double elapsed_s, hal::base::WallTime now,
                           std::string* out);
// The report at the end of a run (text and summary modes).
void AppendFinalReport(const DumpStats& stats, const InputStats& input, double duration_s,
                       std::string* out);
// {"summary": {...}}: the last line in json mode. Keys (add, never rename):
//   duration_s, datagrams, bytes, samples {flow, counter, discard, unknown},
//   sequence_gaps (gap events of every kind: 0 = nothing lost),
//   sequence {datagram, flow_sample, counter_sample, discard_sample: {checked, gaps, missing,
//     late, duplicates, resets}}, decode_errors,
//   agents [{agent, sub_agent_id, collector (pcap: where the datagrams went; else null),
//     datagrams, bytes, samples, sequence_gaps, sequence,
//     last_sequence, last_uptime_ms}],
//   top_talkers [{ip_version, protocol, src_ip, src_port, dst_ip, dst_port, flow, bytes,
//     packets, samples}], other_talkers {bytes, packets, samples},
//   errors [{source, length, message}] (the first ten),
//   input {kind: "pcap", name, link_type, packets, udp, other_port, skipped {not_ip, not_udp,
//     ip_fragment, truncated, malformed, unsupported_link}, file_truncated}
//         | {kind: "udp", name, oversize}
void WriteSummaryJson(const DumpStats& stats, const InputStats& input, double duration_s,
                      JsonWriter* w);

}  // namespace xflowd::tools::xflowdump
