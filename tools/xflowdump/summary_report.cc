#include "tools/xflowdump/summary_report.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "tools/xflowdump/datagram_format.h"

namespace xflowd::tools::xflowdump {

namespace {

constexpr SequenceKind kKinds[kSequenceKinds] = {SequenceKind::kDatagram, SequenceKind::kFlowSample,
                                                 SequenceKind::kCounterSample,
                                                 SequenceKind::kDiscardSample};

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

double PerSecond(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

std::string Rate(uint64_t n, double seconds) { return Fixed(PerSecond(n, seconds), 1); }

// "0" or "2 (5)": gap events and the numbers they skipped.
std::string GapCell(const SequenceCounts& s) {
  if (s.gaps == 0) return "0";
  return std::to_string(s.gaps) + " (" + std::to_string(s.missing) + ")";
}

// A text table: the first column left-aligned, the others right-aligned, two spaces apart.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Append(const std::string& indent, std::string* out) const {
    std::vector<size_t> width;
    for (const auto& row : rows_) {
      if (width.size() < row.size()) width.resize(row.size(), 0);
      for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    for (const auto& row : rows_) {
      std::string line = indent;
      for (size_t c = 0; c < row.size(); ++c) {
        const std::string pad(width[c] - row[c].size(), ' ');
        if (c == 0) {
          line += row[c] + pad;
        } else {
          line += "  " + pad + row[c];
        }
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      *out += line + "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

void AppendAgents(const DumpStats& stats, bool interval, std::string* out) {
  if (stats.agents().empty()) return;
  // Gap cells: "0", or "2 (5)" for two gaps that skipped five numbers.
  Table t({"agent", "datagrams", "flow", "counter", "discard", "datagram gaps", "flow gaps",
           "counter gaps", "discard gaps"});
  for (const auto& [key, a] : stats.agents()) {
    const Counters& c = interval ? a.interval : a.total;
    if (interval && c.datagrams == 0) continue;
    t.Add({key.ToString(), std::to_string(c.datagrams), std::to_string(c.flow_samples),
           std::to_string(c.counter_samples), std::to_string(c.discard_samples),
           GapCell(c.seq(SequenceKind::kDatagram)), GapCell(c.seq(SequenceKind::kFlowSample)),
           GapCell(c.seq(SequenceKind::kCounterSample)),
           GapCell(c.seq(SequenceKind::kDiscardSample))});
  }
  t.Append("  ", out);
}

void AppendTalkers(const DumpStats& stats, bool interval, double seconds, std::string* out) {
  const std::vector<Talker> top = stats.TopTalkers(kTopTalkers, interval);
  if (top.empty()) return;
  std::vector<std::string> header = {"top talkers (frame length x sampling rate)"};
  if (interval) {
    header.insert(header.end(), {"bits/s", "packets/s", "samples"});
  } else {
    header.insert(header.end(), {"bytes", "packets", "samples", "avg bits/s"});
  }
  Table t(header);
  int rank = 0;
  for (const Talker& tk : top) {
    ++rank;
    const std::string name =
        std::string(rank < 10 ? " " : "") + std::to_string(rank) + "  " + tk.key.ToString();
    const double bits_s = PerSecond(tk.totals.bytes, seconds) * 8;
    if (interval) {
      t.Add({name, HumanCount(bits_s), HumanCount(PerSecond(tk.totals.packets, seconds)),
             std::to_string(tk.totals.samples)});
    } else {
      t.Add({name, HumanBytes(static_cast<double>(tk.totals.bytes)),
             HumanCount(static_cast<double>(tk.totals.packets)), std::to_string(tk.totals.samples),
             HumanCount(bits_s)});
    }
  }
  const TalkerTotals& other = stats.other_talkers(interval);
  if (other.samples != 0) {
    t.Add({"   (talkers beyond the table limit)", HumanBytes(static_cast<double>(other.bytes)),
           HumanCount(static_cast<double>(other.packets)), std::to_string(other.samples)});
  }
  t.Append("  ", out);
}

void JsonSequence(const SequenceCounts& s, JsonWriter* w) {
  w->BeginObject()
      .Field("checked", s.checked)
      .Field("gaps", s.gaps)
      .Field("missing", s.missing)
      .Field("late", s.late)
      .Field("duplicates", s.duplicates)
      .Field("resets", s.resets)
      .EndObject();
}

void JsonCounters(const Counters& c, JsonWriter* w) {
  w->Field("datagrams", c.datagrams).Field("bytes", c.bytes);
  w->Key("samples")
      .BeginObject()
      .Field("flow", c.flow_samples)
      .Field("counter", c.counter_samples)
      .Field("discard", c.discard_samples)
      .Field("unknown", c.unknown_samples)
      .EndObject();
  w->Field("sequence_gaps", c.total_gaps());
  w->Key("sequence").BeginObject();
  for (SequenceKind k : kKinds) {
    w->Key(SequenceKindName(k));
    JsonSequence(c.seq(k), w);
  }
  w->EndObject();
}

void JsonTalker(const TalkerKey& key, const TalkerTotals& t, JsonWriter* w) {
  w->BeginObject();
  w->Field("ip_version", uint32_t{key.ip_version});
  if (key.ip_version != 0) {
    w->Field("protocol", uint32_t{key.protocol})
        .Field("src_ip", key.src_address().ToString())
        .Field("src_port", uint32_t{key.src_port})
        .Field("dst_ip", key.dst_address().ToString())
        .Field("dst_port", uint32_t{key.dst_port});
  }
  w->Field("flow", key.ToString())
      .Field("bytes", t.bytes)
      .Field("packets", t.packets)
      .Field("samples", t.samples);
  w->EndObject();
}

}  // namespace

void AppendIntervalSummary(const DumpStats& stats, double elapsed_s, hal::base::WallTime now,
                           std::string* out) {
  const Counters& c = stats.interval();
  *out += FormatWallTime(now) + "  last " + Fixed(elapsed_s, 1) +
          " s:  " + Rate(c.datagrams, elapsed_s) + " datagrams/s  " +
          Rate(c.flow_samples, elapsed_s) + " flow samples/s  " +
          Rate(c.counter_samples, elapsed_s) + " counter samples/s";
  if (c.discard_samples) *out += "  " + Rate(c.discard_samples, elapsed_s) + " discards/s";
  *out += "  gaps " + std::to_string(c.total_gaps());
  if (c.decode_errors) *out += "  malformed " + std::to_string(c.decode_errors);
  *out += "\n";
  AppendAgents(stats, true, out);
  AppendTalkers(stats, true, elapsed_s, out);
  if (c.decode_errors) *out += "  last malformed: " + stats.last_error() + "\n";
  *out += "\n";
}

void AppendFinalReport(const DumpStats& stats, const InputStats& input, double duration_s,
                       std::string* out) {
  const Counters& c = stats.total();
  *out += "=== xflowdump report: " + Fixed(duration_s, 3) + " s";
  *out += input.is_pcap ? " of capture time\n" : "\n";
  if (input.is_pcap) {
    *out += "input      " + input.name + ": " + std::to_string(input.packets) + " packets, " +
            std::to_string(input.count(ExtractResult::kOk)) + " UDP";
    if (input.other_port) *out += " (" + std::to_string(input.other_port) + " to other ports)";
    for (int r = 1; r < kExtractResults; ++r) {
      if (input.extract[r] == 0) continue;
      *out += ", " + std::to_string(input.extract[r]) + " " +
              ExtractResultName(static_cast<ExtractResult>(r));
    }
    if (input.file_truncated) *out += "; the file ends inside a packet";
    *out += "\n";
  } else {
    *out += "input      udp " + input.name;
    if (input.receive_truncated) {
      *out += ", " + std::to_string(input.receive_truncated) + " oversize datagrams skipped";
    }
    *out += "\n";
  }
  *out += "datagrams  " + std::to_string(c.datagrams) + " decoded (" +
          HumanBytes(static_cast<double>(c.bytes)) + "), " + std::to_string(c.decode_errors) +
          " malformed\n";
  *out += "samples    flow " + std::to_string(c.flow_samples) + "  counter " +
          std::to_string(c.counter_samples) + "  discard " + std::to_string(c.discard_samples) +
          "  unknown " + std::to_string(c.unknown_samples) + "\n";
  *out +=
      "sequence   " +
      (c.total_gaps() == 0 ? std::string("no gaps") : std::to_string(c.total_gaps()) + " gaps") +
      "\n";
  Table seq({"", "checked", "gaps", "missing", "late", "duplicates", "resets"});
  for (SequenceKind k : kKinds) {
    const SequenceCounts& s = c.seq(k);
    seq.Add({SequenceKindName(k), std::to_string(s.checked), std::to_string(s.gaps),
             std::to_string(s.missing), std::to_string(s.late), std::to_string(s.duplicates),
             std::to_string(s.resets)});
  }
  seq.Append("  ", out);
  AppendAgents(stats, false, out);
  AppendTalkers(stats, false, duration_s, out);
  if (!stats.first_errors().empty()) {
    *out += "malformed datagrams";
    if (c.decode_errors > stats.first_errors().size()) {
      *out += " (first " + std::to_string(stats.first_errors().size()) + " of " +
              std::to_string(c.decode_errors) + ")";
    }
    *out += ":\n";
    for (const DecodeErrorRecord& e : stats.first_errors()) {
      *out += "  " + e.source.ToString() + " (" + std::to_string(e.bytes) +
              " bytes): " + e.message + "\n";
    }
  }
}

void WriteSummaryJson(const DumpStats& stats, const InputStats& input, double duration_s,
                      JsonWriter* w) {
  const Counters& c = stats.total();
  w->BeginObject().Key("summary").BeginObject();
  w->Key("duration_s").Double(duration_s, 6);
  JsonCounters(c, w);
  w->Field("decode_errors", c.decode_errors);

  w->Key("agents").BeginArray();
  for (const auto& [key, a] : stats.agents()) {
    w->BeginObject();
    if (key.address.family() == hal::base::IpAddress::Family::kNone) {
      w->Key("agent").Null();
    } else {
      w->Field("agent", key.address.ToString());
    }
    w->Field("sub_agent_id", key.sub_agent_id);
    if (key.collector.address.family() == hal::base::IpAddress::Family::kNone) {
      w->Key("collector").Null();
    } else {
      w->Field("collector", key.collector.ToString());
    }
    JsonCounters(a.total, w);
    w->Field("last_sequence", a.last_sequence).Field("last_uptime_ms", a.last_uptime_ms);
    w->EndObject();
  }
  w->EndArray();

  w->Key("top_talkers").BeginArray();
  for (const Talker& t : stats.TopTalkers(kTopTalkers, false)) JsonTalker(t.key, t.totals, w);
  w->EndArray();
  const TalkerTotals& other = stats.other_talkers(false);
  w->Key("other_talkers")
      .BeginObject()
      .Field("bytes", other.bytes)
      .Field("packets", other.packets)
      .Field("samples", other.samples)
      .EndObject();

  w->Key("errors").BeginArray();
  for (const DecodeErrorRecord& e : stats.first_errors()) {
    w->BeginObject()
        .Field("source", e.source.ToString())
        .Field("length", static_cast<uint64_t>(e.bytes))
        .Field("message", e.message)
        .EndObject();
  }
  w->EndArray();

  w->Key("input").BeginObject();
  w->Field("kind", input.is_pcap ? "pcap" : "udp").Field("name", input.name);
  if (input.is_pcap) {
    w->Field("link_type", input.link_type);
    w->Field("packets", input.packets);
    w->Field("udp", input.count(ExtractResult::kOk));
    w->Field("other_port", input.other_port);
    w->Key("skipped").BeginObject();
    for (int r = 1; r < kExtractResults; ++r) {
      w->Field(ExtractResultName(static_cast<ExtractResult>(r)), input.extract[r]);
    }
    w->EndObject();
    w->Field("file_truncated", input.file_truncated);
  } else {
    w->Field("oversize", input.receive_truncated);
  }
  w->EndObject();

  w->EndObject().EndObject();
}

}  // namespace xflowd::tools::xflowdump
