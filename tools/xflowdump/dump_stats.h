// What xflowdump counts: datagrams, samples and decode errors (in total and for the current
// interval), sequence gaps per agent, and the top talkers by scaled bytes. Pure accounting, no
// I/O and no clock: the caller says when an interval ends (ResetInterval), so tests drive it
// with hand-built datagrams.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "exporter/sflow/sflow_decoder.h"
#include "hal/base/ip_address.h"
#include "tools/xflowdump/sequence_tracker.h"

namespace xflowd::tools::xflowdump {

enum class SequenceKind : uint8_t {
  kDatagram = 0,   // per agent + sub-agent
  kFlowSample,     // per agent + sub-agent + source id (the sampler)
  kCounterSample,  // per agent + sub-agent + source id (the poller)
  kDiscardSample,  // per agent + sub-agent + source id (the notifier)
};
constexpr int kSequenceKinds = 4;
// "datagram", "flow_sample", "counter_sample", "discard_sample": JSON keys.
const char* SequenceKindName(SequenceKind kind);

struct Counters {
  uint64_t datagrams = 0;  // decoded
  uint64_t bytes = 0;      // UDP payload bytes of decoded datagrams
  uint64_t decode_errors = 0;
  uint64_t flow_samples = 0;
  uint64_t counter_samples = 0;
  uint64_t discard_samples = 0;
  uint64_t unknown_samples = 0;
  SequenceCounts sequence[kSequenceKinds];

  SequenceCounts& seq(SequenceKind k) { return sequence[static_cast<int>(k)]; }
  const SequenceCounts& seq(SequenceKind k) const { return sequence[static_cast<int>(k)]; }
  // Gap events of every kind.
  uint64_t total_gaps() const;
  void Add(const Counters& o);
};

// One stream of datagram sequence numbers. An agent numbers the datagrams of each receiver
// (collector) separately, so a capture that sees one agent send to two collectors holds two
// streams; `collector` tells them apart (left empty for live input, where every datagram
// comes to us).
struct AgentKey {
  hal::base::IpAddress address;
  uint32_t sub_agent_id = 0;
  hal::base::Endpoint collector;
  bool operator<(const AgentKey& o) const;
  // "192.0.2.1", "192.0.2.1/2" (sub-agent when not 0), "192.0.2.1 -> 192.0.2.9:6343".
  std::string ToString() const;
};

struct AgentStats {
  Counters total;
  Counters interval;
  uint32_t last_sequence = 0;
  uint32_t last_uptime_ms = 0;
};

// A talker: the 5-tuple of a sampled packet (ip_version 0 = not IP: everything else zero).
struct TalkerKey {
  uint8_t ip_version = 0;
  uint8_t protocol = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t src[16] = {};
  uint8_t dst[16] = {};
  bool operator<(const TalkerKey& o) const;
  // "tcp 10.0.0.1:443 -> 10.0.0.2:51000", "icmp 10.0.0.1 -> 10.0.0.2", "non-IP".
  std::string ToString() const;
  hal::base::IpAddress src_address() const;
  hal::base::IpAddress dst_address() const;
};

struct TalkerTotals {
  uint64_t bytes = 0;    // frame_length x sampling_rate, summed
  uint64_t packets = 0;  // sampling_rate, summed
  uint64_t samples = 0;
};

struct Talker {
  TalkerKey key;
  TalkerTotals totals;
};

// The first few malformed datagrams, kept for the final report.
struct DecodeErrorRecord {
  hal::base::Endpoint source;
  size_t bytes = 0;
  std::string message;
};

class DumpStats {
 public:
  // Talkers beyond `max_talkers` distinct keys (per table) are summed into other_talkers() so a
  // long run cannot grow without bound.
  explicit DumpStats(size_t max_talkers = 100000, size_t max_errors_kept = 10)
      : max_talkers_(max_talkers), max_errors_kept_(max_errors_kept) {}

  // `collector`: where the datagram was sent (from a capture), or empty.
  void AddDatagram(const exporter::sflow::DecodedDatagram& d, size_t bytes,
                   const hal::base::Endpoint& collector = hal::base::Endpoint());
  void AddDecodeError(const hal::base::Endpoint& source, size_t bytes, const std::string& message);
  // Ends the current interval: interval counters and talkers start again from zero.
  void ResetInterval();

  const Counters& total() const { return total_; }
  const Counters& interval() const { return interval_; }
  const std::map<AgentKey, AgentStats>& agents() const { return agents_; }
  // The n largest by bytes (ties: by key), over the whole run or the current interval.
  std::vector<Talker> TopTalkers(size_t n, bool interval) const;
  const TalkerTotals& other_talkers(bool interval) const {
    return interval ? interval_other_ : total_other_;
  }
  const std::vector<DecodeErrorRecord>& first_errors() const { return first_errors_; }
  const std::string& last_error() const { return last_error_; }

 private:
  struct SourceKey {
    AgentKey agent;
    SequenceKind kind;
    uint32_t type;
    uint32_t index;
    bool operator<(const SourceKey& o) const;
  };
  struct SourceState {
    SequenceTracker tracker;
    uint64_t epoch = 0;  // the agent's restart count when last seen
  };
  struct AgentState {
    SequenceTracker tracker;
    uint64_t epoch = 0;  // bumped on every restart
    bool have_uptime = false;
    uint32_t last_uptime_ms = 0;
  };

  void ObserveSource(const AgentKey& agent, uint64_t epoch, SequenceKind kind,
                     const exporter::sflow::DataSource& source, uint32_t sequence,
                     AgentStats* stats);
  void AddTalkers(const exporter::sflow::DecodedFlowSample& s);
  void AddTalker(const TalkerKey& key, uint64_t bytes, uint64_t packets);

  size_t max_talkers_;
  size_t max_errors_kept_;
  Counters total_;
  Counters interval_;
  std::map<AgentKey, AgentStats> agents_;
  std::map<AgentKey, AgentState> agent_state_;
  std::map<SourceKey, SourceState> sources_;
  std::map<TalkerKey, TalkerTotals> total_talkers_;
  std::map<TalkerKey, TalkerTotals> interval_talkers_;
  TalkerTotals total_other_;
  TalkerTotals interval_other_;
  std::vector<DecodeErrorRecord> first_errors_;
  std::string last_error_;
};

// The 5-tuple of the packet a flow sample describes: from its sampled_header (parsed), else a
// sampled_ipv4 / sampled_ipv6 record. False if the sample has none of them. *frame_bytes is
// the frame length (header) or IP length (ipv4/ipv6 records).
bool TalkerOf(const exporter::sflow::DecodedFlowSample& s, TalkerKey* key, uint64_t* frame_bytes);

}  // namespace xflowd::tools::xflowdump
