#include "tools/xflowctl/ctl_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

namespace xflowd::tools::xflowctl {

using nlohmann::json;

namespace {

struct Column {
  std::string header;
  std::string key;  // dotted path into each row
  bool right = true;
};

const json* At(const json& row, const std::string& path) {
  const json* j = &row;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    const std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!j->is_object()) return nullptr;
    auto it = j->find(part);
    if (it == j->end()) return nullptr;
    j = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return j;
}

std::string Table(const json& rows, const std::vector<Column>& cols) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width(cols.size());
  for (size_t c = 0; c < cols.size(); ++c) width[c] = cols[c].header.size();
  if (rows.is_array()) {
    for (const json& row : rows) {
      std::vector<std::string> line;
      for (size_t c = 0; c < cols.size(); ++c) {
        const json* v = At(row, cols[c].key);
        line.push_back(v ? Cell(*v) : "-");
        width[c] = std::max(width[c], line.back().size());
      }
      cells.push_back(std::move(line));
    }
  }
  auto emit = [&](const std::vector<std::string>& line, std::string* out) {
    std::string s;
    for (size_t c = 0; c < cols.size(); ++c) {
      const size_t pad = width[c] - line[c].size();
      if (c > 0) s += "  ";
      if (cols[c].right) s += std::string(pad, ' ');
      s += line[c];
      if (!cols[c].right && c + 1 < cols.size()) s += std::string(pad, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    *out += s + "\n";
  };
  std::string out;
  std::vector<std::string> header;
  for (const Column& c : cols) header.push_back(c.header);
  emit(header, &out);
  for (const auto& line : cells) emit(line, &out);
  return out;
}

void Flatten(const json& j, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>* out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else if (j.is_array() && !j.empty()) {
    for (size_t i = 0; i < j.size(); ++i) {
      Flatten(j[i], prefix + "[" + std::to_string(i) + "]", out);
    }
  } else {
    out->emplace_back(prefix, Cell(j));
  }
}

std::string KeyValues(const json& j) {
  std::vector<std::pair<std::string, std::string>> kv;
  Flatten(j, "", &kv);
  size_t w = 0;
  for (const auto& p : kv) w = std::max(w, p.first.size());
  std::string out;
  for (const auto& p : kv) {
    out += p.first + ":" + std::string(w - p.first.size() + 1, ' ') + p.second + "\n";
  }
  return out;
}

// The columns of an array of objects: every key of the first row, in its order.
std::vector<Column> ColumnsOf(const json& rows) {
  std::vector<Column> cols;
  if (!rows.is_array() || rows.empty() || !rows[0].is_object()) return cols;
  for (auto it = rows[0].begin(); it != rows[0].end(); ++it) {
    if (it.value().is_structured()) continue;
    cols.push_back({it.key(), it.key(), !it.value().is_string()});
  }
  return cols;
}

// "enabled": false (no flow cache), tolerant of any other shape.
bool Disabled(const json& j) {
  auto it = j.find("enabled");
  return it != j.end() && it->is_boolean() && !it->get<bool>();
}

}  // namespace

std::string Cell(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_float()) {
    const double d = v.get<double>();
    char buf[64];
    if (std::fabs(d) >= 100 || d == std::floor(d)) {
      std::snprintf(buf, sizeof(buf), "%.0f", d);
    } else {
      std::snprintf(buf, sizeof(buf), "%.2f", d);
    }
    return buf;
  }
  return v.dump();
}

std::string FormatResult(const std::string& command, const json& result) {
  if (command == "ports" && result.is_array()) {
    return Table(result, {{"IFINDEX", "ifindex"},
                          {"NAME", "name", false},
                          {"UP", "oper_up"},
                          {"DIR", "direction", false},
                          {"RATE_WANTED", "requested_rate"},
                          {"RATE", "rate"},
                          {"SAMPLES", "samples"},
                          {"POOL", "pool"},
                          {"DROPS", "drops"},
                          {"EG_SAMPLES", "egress.samples"},
                          {"POLL_S", "polling_interval_s"},
                          {"CTR_SAMPLES", "counter_samples"},
                          {"IN_PKTS", "counters.in_ucast_pkts"},
                          {"IN_OCTETS", "counters.in_octets"},
                          {"IN_DISCARDS", "counters.in_discards"},
                          {"RCVR", "receiver", false},
                          {"CP_RCVR", "poller_receiver", false}});
  }
  if (command == "collectors" && result.is_array()) {
    if (result.empty()) return "no collectors\n";
    return Table(result, {{"PROTOCOL", "protocol", false},
                          {"RECEIVER", "receiver", false},
                          {"TRANSPORT", "transport", false},
                          {"STATE", "state", false},
                          {"DATAGRAMS", "datagrams"},
                          {"BYTES", "bytes"},
                          {"SEND_ERRORS", "send_errors"},
                          {"LOST", "lost"},
                          {"RECORDS", "records"},
                          {"LAST_ERROR", "last_error", false}}) +
           [&] {
             std::string d;
             for (const json& c : result) {
               const json* t = At(c, "transport");
               const json* x = At(c, "details");
               if (t && x && x->is_string() && !x->get<std::string>().empty()) {
                 d += "  " + Cell(*t) + ": " + x->get<std::string>() + "\n";
               }
             }
             return d;
           }();
  }
  if (command == "top" && result.is_object() && result.contains("talkers")) {
    json head = result;
    head.erase("talkers");
    return KeyValues(head) + "\n" +
           Table(result["talkers"], {{"SRC", "src", false},
                                     {"SPORT", "src_port"},
                                     {"DST", "dst", false},
                                     {"DPORT", "dst_port"},
                                     {"PROTO", "protocol", false},
                                     {"BYTES/S", "bytes_per_s"},
                                     {"PKTS/S", "packets_per_s"},
                                     {"SAMPLES", "samples"}});
  }
  if (command == "check" && result.is_object() && result.contains("ports")) {
    json head = result;
    head.erase("ports");
    return KeyValues(head) + "\n" +
           Table(result["ports"], {{"IFINDEX", "ifindex"},
                                   {"NAME", "name", false},
                                   {"RATE", "sampling_rate"},
                                   {"SAMPLES", "samples"},
                                   {"ESTIMATE", "estimate_packets"},
                                   {"COUNTER", "counter_packets"},
                                   {"DIFF", "relative_difference"},
                                   {"+-INTERVAL", "interval"},
                                   {"VERDICT", "verdict", false},
                                   {"DROPS", "drops"},
                                   {"FLAGGED", "flagged", false},
                                   {"REASON", "reason", false}});
  }
  if (command == "stats" && result.is_object()) return KeyValues(result);
  if (command == "flows" && result.is_object()) {
    if (Disabled(result)) {
      return "no flow cache (no NetFlow/IPFIX collector configured)\n";
    }
    return KeyValues(result);
  }
  if (command == "flush" && result.is_object()) {
    if (Disabled(result)) return "no flow cache (no NetFlow/IPFIX collector configured)\n";
    const json* n = At(result, "records");
    return "flushed: " + (n ? Cell(*n) : std::string("?")) + " records exported\n";
  }
  if (command == "reload" && result.is_object()) {
    return "reloaded\n" + KeyValues(result);
  }
  if (command == "help" && result.is_array()) {
    std::string s;
    for (const json& c : result) s += Cell(c) + "\n";
    return s;
  }
  if (result.is_array()) {
    const std::vector<Column> cols = ColumnsOf(result);
    if (!cols.empty()) return Table(result, cols);
    if (result.empty()) return "(none)\n";
  }
  if (result.is_object()) {
    // top / check: a header object with the rows in its one array member ("talkers", "ports").
    for (auto it = result.begin(); it != result.end(); ++it) {
      if (!it->is_array()) continue;
      json head = result;
      head.erase(it.key());
      const std::vector<Column> cols = ColumnsOf(*it);
      return KeyValues(head) + (cols.empty() ? "" : "\n" + Table(*it, cols));
    }
  }
  return KeyValues(result);
}

}  // namespace xflowd::tools::xflowctl
