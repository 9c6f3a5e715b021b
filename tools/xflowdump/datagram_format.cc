#include "tools/xflowdump/datagram_format.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <variant>
#include <vector>

#include "agent/packet/packet_parser.h"
#include "tools/xflowdump/record_fields.h"

namespace xflowd::tools::xflowdump {

namespace sf = exporter::sflow;
namespace packet = agent::packet;
using hal::base::ByteView;
using hal::base::IpAddress;

namespace {

// ---------------------------------------------------------------- small formatters

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

std::string TagString(uint32_t enterprise, uint32_t format) {
  return std::to_string(enterprise) + ":" + std::to_string(format);
}

std::string SourceText(const sf::DataSource& s) {
  switch (s.type) {
    case 0:
      return "ifIndex " + std::to_string(s.index);
    case 1:
      return "vlan " + std::to_string(s.index);
    case 2:
      return "entPhysicalIndex " + std::to_string(s.index);
    default:
      return "type " + std::to_string(s.type) + " index " + std::to_string(s.index);
  }
}

// Flow sample input/output (sFlow v5 interface format).
std::string InterfaceText(const sf::Interface& i, bool output) {
  switch (i.format) {
    case 0:
      if (i.value == 0) return "unknown";
      if (output && i.value == 0x3FFFFFFF) return "internal";
      return std::to_string(i.value);
    case 1: {
      const char* name = sf::DropReasonName(i.value);
      return "discarded (" + std::to_string(i.value) + (name ? std::string(" ") + name : "") + ")";
    }
    case 2:
      if (i.value == 0 || i.value == 0x7FFFFFFF) return "multiple";
      return "multiple (" + std::to_string(i.value) + ")";
    default:
      return "format " + std::to_string(i.format) + " value " + std::to_string(i.value);
  }
}

std::string TcpFlagsText(uint32_t flags) {
  static const char* const kNames[] = {"FIN", "SYN", "RST", "PSH", "ACK",
                                       "URG", "ECE", "CWR", "NS"};
  std::string s;
  for (int i = 0; i < 9; ++i) {
    if ((flags & (1u << i)) == 0) continue;
    if (!s.empty()) s += ",";
    s += kNames[i];
  }
  return s.empty() ? "none" : s;
}

std::string ProtoText(uint32_t p) {
  const char* name = packet::IpProtocolName(p);
  return name ? name : std::to_string(p);
}

std::string SpeedText(uint64_t bps) {
  if (bps == 0) return "unknown";
  if (bps % 1000000000 == 0) return std::to_string(bps / 1000000000) + " Gb/s";
  if (bps % 1000000 == 0) return std::to_string(bps / 1000000) + " Mb/s";
  return std::to_string(bps) + " b/s";
}

const char* DirectionText(uint32_t d) {
  switch (d) {
    case 1:
      return "full-duplex";
    case 2:
      return "half-duplex";
    case 3:
      return "in";
    case 4:
      return "out";
    default:
      return "duplex unknown";
  }
}

std::string Counter32(uint32_t v) { return v == sf::kUnknown32 ? "-" : std::to_string(v); }
std::string Counter64(uint64_t v) { return v == sf::kUnknown64 ? "-" : std::to_string(v); }

const char* FlowName(const sf::DecodedFlowRecord& r) {
  return sf::FlowRecordName(sf::RecordTag(r));
}
const char* CounterName(const sf::DecodedCounterRecord& r) {
  return sf::CounterRecordName(sf::RecordTag(r));
}

std::string Percent(uint32_t hundredths) {
  if (hundredths == 0xFFFFFFFFu) return "unknown";  // the spec's percentage -1
  return Printf("%u.%02u%%", hundredths / 100, hundredths % 100);
}

std::string UptimeText(uint32_t ms) {
  const uint32_t s = ms / 1000;
  return Printf("%ud %02u:%02u:%02u.%03u", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60,
                ms % 1000);
}

// ---------------------------------------------------------------- text

// Parses the sampled header down to L4; false for header protocols we do not parse.
bool ParseSampledHeader(const sf::DecodedSampledHeader& h, packet::ParsedPacket* p,
                        packet::ParseError* err) {
  packet::LinkType link;
  if (h.protocol == sf::kHeaderEthernet) {
    link = packet::LinkType::kEthernet;
  } else if (h.protocol == sf::kHeaderIpv4 || h.protocol == sf::kHeaderIpv6) {
    link = packet::LinkType::kRawIp;
  } else {
    return false;
  }
  *err = packet::ParsePacket(ByteView(h.header.data(), h.header.size()), link, p);
  return true;
}

void ParsedPacketText(const sf::DecodedSampledHeader& h, std::string* out) {
  packet::ParsedPacket p;
  packet::ParseError err;
  if (!ParseSampledHeader(h, &p, &err)) return;
  const char* kIndent = "      ";
  if (p.has_ethernet) {
    *out += kIndent;
    *out += "ether  " + MacText(p.src_mac) + " > " + MacText(p.dst_mac);
    for (int i = 0; i < p.vlan_count; ++i) {
      *out += Printf("  vlan %u pcp %u", p.vlan_id[i], p.vlan_pcp[i]);
    }
    for (int i = 0; i < p.mpls_count; ++i) {
      *out += Printf("  mpls %u", p.mpls_labels[i] >> 12);
    }
    *out += Printf("  type 0x%04x\n", p.ethertype);
  }
  if (p.ip_version == 4 || p.ip_version == 6) {
    const IpAddress src = p.ip_version == 4 ? IpAddress::V4(p.src_ip) : IpAddress::V6(p.src_ip);
    const IpAddress dst = p.ip_version == 4 ? IpAddress::V4(p.dst_ip) : IpAddress::V6(p.dst_ip);
    *out += kIndent;
    *out += (p.ip_version == 4 ? "ipv4   " : "ipv6   ") + src.ToString() + " > " + dst.ToString() +
            "  proto " + ProtoText(p.protocol) +
            Printf("  tos 0x%02x  ttl %u  len %u", p.tos, p.ttl, p.ip_length);
    if (p.ip_version == 6 && p.flow_label) *out += Printf("  flow 0x%05x", p.flow_label);
    if (p.is_fragment) {
      *out += Printf("  frag offset %u%s", p.fragment_offset * 8u, p.more_fragments ? "+" : "");
    }
    *out += "\n";
  }
  if (p.has_ports) {
    *out += kIndent;
    *out += Printf("%-6s %u > %u", ProtoText(p.protocol).c_str(), p.src_port, p.dst_port);
    if (p.protocol == 6) *out += "  flags " + TcpFlagsText(p.tcp_flags);
    *out += "\n";
  }
  if (p.has_icmp) {
    *out += kIndent;
    *out +=
        Printf("%-6s type %u code %u\n", ProtoText(p.protocol).c_str(), p.icmp_type, p.icmp_code);
  }
  if (err != packet::ParseError::kNone && err != packet::ParseError::kNotIp) {
    *out += kIndent;
    *out += std::string("(header parse stopped: ") + packet::ParseErrorName(err) + ")\n";
  }
}

void RecordText(const sf::DecodedSampledHeader& h, const TextOptions& opt, std::string* out) {
  const char* proto = sf::HeaderProtocolName(h.protocol);
  *out += Printf("  %s  frame %u  stripped %u  header %zu\n",
                 proto ? proto : std::to_string(h.protocol).c_str(), h.frame_length, h.stripped,
                 h.header.size());
  ParsedPacketText(h, out);
  if (opt.hex) HexLines(h.header.data(), h.header.size(), "      ", out);
}

void RecordText(const sf::SampledEthernet& e, const TextOptions&, std::string* out) {
  *out += "  " + MacText(e.src_mac) + " > " + MacText(e.dst_mac) +
          Printf("  type 0x%04x  length %u\n", e.type, e.length);
}

void RecordText(const sf::SampledIpv4& v4, const TextOptions&, std::string* out) {
  *out += "  " + IpAddress::V4(v4.src_ip).ToString() + Printf(":%u", v4.src_port) + " > " +
          IpAddress::V4(v4.dst_ip).ToString() + Printf(":%u", v4.dst_port) + "  proto " +
          ProtoText(v4.protocol) + Printf("  tos 0x%02x  length %u", v4.tos, v4.length);
  if (v4.protocol == 6) *out += "  flags " + TcpFlagsText(v4.tcp_flags);
  *out += "\n";
}

void RecordText(const sf::SampledIpv6& v6, const TextOptions&, std::string* out) {
  *out += "  [" + IpAddress::V6(v6.src_ip).ToString() + Printf("]:%u", v6.src_port) + " > [" +
          IpAddress::V6(v6.dst_ip).ToString() + Printf("]:%u", v6.dst_port) + "  proto " +
          ProtoText(v6.protocol) + Printf("  priority %u  length %u", v6.priority, v6.length);
  if (v6.protocol == 6) *out += "  flags " + TcpFlagsText(v6.tcp_flags);
  *out += "\n";
}

void RecordText(const sf::ExtendedSwitch& sw, const TextOptions&, std::string* out) {
  *out += Printf("  in vlan %u pri %u  out vlan %u pri %u\n", sw.src_vlan, sw.src_priority,
                 sw.dst_vlan, sw.dst_priority);
}

void RecordText(const sf::ExtendedRouter& r, const TextOptions&, std::string* out) {
  *out += "  next hop " + AddressOrUnknown(r.next_hop) +
          Printf("  src /%u  dst /%u\n", r.src_mask_len, r.dst_mask_len);
}

void RecordText(const sf::DecodedExtendedGateway& g, const TextOptions&, std::string* out) {
  *out += "  next hop " + AddressOrUnknown(g.next_hop) +
          Printf("  as %u  src_as %u  src_peer_as %u  localpref %u\n", g.as, g.src_as,
                 g.src_peer_as, g.local_pref);
  if (!g.dst_as_path.empty()) {
    *out += "      as path";
    for (const sf::DecodedAsPathSegment& s : g.dst_as_path) {
      *out += s.type == 1 ? " {" : s.type == 2 ? " " : Printf(" (type %u:", s.type);
      for (size_t i = 0; i < s.as_numbers.size(); ++i) {
        *out += (i ? " " : "") + std::to_string(s.as_numbers[i]);
      }
      *out += s.type == 1 ? "}" : s.type == 2 ? "" : ")";
    }
    *out += "\n";
  }
  if (!g.communities.empty()) {
    *out += "      communities";
    for (uint32_t c : g.communities) *out += Printf(" %u:%u", c >> 16, c & 0xFFFF);
    *out += "\n";
  }
}

void RecordText(const sf::ExtendedTimestamp& t, const TextOptions&, std::string* out) {
  *out += "  " +
          FormatWallTime(hal::base::WallTime::FromNs(
              static_cast<int64_t>(t.nanoseconds > INT64_MAX ? INT64_MAX : t.nanoseconds))) +
          Printf("  (%" PRIu64 " ns)\n", t.nanoseconds);
}

void RecordText(const sf::UnknownRecord& u, const TextOptions& opt, std::string* out) {
  *out += "  " + TagString(u.enterprise, u.format) + Printf("  %zu bytes\n", u.data.size());
  if (opt.hex) HexLines(u.data.data(), u.data.size(), "      ", out);
}

void RecordText(const sf::GenericInterfaceCounters& g, const TextOptions&, std::string* out) {
  *out += Printf("  ifIndex %u  type %u  ", g.if_index, g.if_type) + SpeedText(g.if_speed) + "  " +
          DirectionText(g.if_direction) + "  admin " + ((g.if_status & 1) ? "up" : "down") +
          "  oper " + ((g.if_status & 2) ? "up" : "down") +
          (g.promiscuous_mode == 1 ? "  promiscuous" : "") + "\n";
  *out += "      in   octets " + Counter64(g.in_octets) + "  ucast " + Counter32(g.in_ucast_pkts) +
          "  mcast " + Counter32(g.in_multicast_pkts) + "  bcast " +
          Counter32(g.in_broadcast_pkts) + "  discards " + Counter32(g.in_discards) + "  errors " +
          Counter32(g.in_errors) + "  unknown_protos " + Counter32(g.in_unknown_protos) + "\n";
  *out += "      out  octets " + Counter64(g.out_octets) + "  ucast " +
          Counter32(g.out_ucast_pkts) + "  mcast " + Counter32(g.out_multicast_pkts) + "  bcast " +
          Counter32(g.out_broadcast_pkts) + "  discards " + Counter32(g.out_discards) +
          "  errors " + Counter32(g.out_errors) + "\n";
}

void RecordText(const sf::EthernetInterfaceCounters& e, const TextOptions&, std::string* out) {
  *out += "  alignment " + Counter32(e.alignment_errors) + "  fcs " + Counter32(e.fcs_errors) +
          "  single_coll " + Counter32(e.single_collision_frames) + "  multi_coll " +
          Counter32(e.multiple_collision_frames) + "  sqe " + Counter32(e.sqe_test_errors) +
          "  deferred " + Counter32(e.deferred_transmissions) + "\n";
  *out += "      late_coll " + Counter32(e.late_collisions) + "  excessive_coll " +
          Counter32(e.excessive_collisions) + "  mac_tx_errors " +
          Counter32(e.internal_mac_transmit_errors) + "  carrier_sense " +
          Counter32(e.carrier_sense_errors) + "  too_long " + Counter32(e.frame_too_longs) +
          "  mac_rx_errors " + Counter32(e.internal_mac_receive_errors) + "  symbol " +
          Counter32(e.symbol_errors) + "\n";
}

void RecordText(const sf::VlanCounters& v, const TextOptions&, std::string* out) {
  *out += Printf("  vlan %u  octets ", v.vlan_id) + Counter64(v.octets) + "  ucast " +
          Counter32(v.ucast_pkts) + "  mcast " + Counter32(v.multicast_pkts) + "  bcast " +
          Counter32(v.broadcast_pkts) + "  discards " + Counter32(v.discards) + "\n";
}

void RecordText(const sf::ProcessorCounters& p, const TextOptions&, std::string* out) {
  *out += "  cpu 5s " + Percent(p.cpu_5s) + "  1m " + Percent(p.cpu_1m) + "  5m " +
          Percent(p.cpu_5m) + "  memory total " + HumanBytes(double(p.total_memory)) + "  free " +
          HumanBytes(double(p.free_memory)) + "\n";
}

void RecordText(const sf::DecodedPortName& n, const TextOptions&, std::string* out) {
  *out += "  \"" + Printable(n.name) + "\"\n";
}

template <typename Record>
void RecordText(const Record& r, const TextOptions& opt, std::string* out) {
  TextFields text(opt, out);
  sf::VisitFields(r, text);
  text.Finish();
}

// "    <record name>  <fields>"
template <typename Variant>
void RecordLine(const Variant& rec, const char* name, const TextOptions& opt, std::string* out) {
  *out += "    ";
  *out += name;
  std::visit([&](const auto& r) { RecordText(r, opt, out); }, rec);
}

// ---------------------------------------------------------------- json

void JsonTag(const char* kind, uint32_t tag, JsonWriter* w) {
  w->Field("kind", kind)
      .Field("enterprise", sf::TagEnterprise(tag))
      .Field("format", sf::TagFormat(tag));
}

void JsonParsedPacket(const sf::DecodedSampledHeader& h, JsonWriter* w) {
  packet::ParsedPacket p;
  packet::ParseError err;
  if (!ParseSampledHeader(h, &p, &err)) return;
  w->Key("decoded").BeginObject();
  w->Field("parse_error", packet::ParseErrorName(err));
  if (p.has_ethernet) {
    w->Field("src_mac", MacText(p.src_mac)).Field("dst_mac", MacText(p.dst_mac));
    w->Key("vlans").BeginArray();
    for (int i = 0; i < p.vlan_count; ++i) {
      w->BeginObject().Field("id", uint32_t{p.vlan_id[i]}).Field("pcp", uint32_t{p.vlan_pcp[i]});
      w->EndObject();
    }
    w->EndArray();
    if (p.mpls_count) {
      w->Key("mpls_labels").BeginArray();
      for (int i = 0; i < p.mpls_count; ++i) w->Uint(p.mpls_labels[i] >> 12);
      w->EndArray();
    }
    w->Field("ethertype", uint32_t{p.ethertype});
  }
  if (p.ip_version == 4 || p.ip_version == 6) {
    const bool v4 = p.ip_version == 4;
    w->Field("ip_version", uint32_t{p.ip_version});
    w->Field("src_ip", (v4 ? IpAddress::V4(p.src_ip) : IpAddress::V6(p.src_ip)).ToString());
    w->Field("dst_ip", (v4 ? IpAddress::V4(p.dst_ip) : IpAddress::V6(p.dst_ip)).ToString());
    w->Field("protocol", uint32_t{p.protocol});
    w->Field("tos", uint32_t{p.tos});
    w->Field("ttl", uint32_t{p.ttl});
    w->Field("ip_length", p.ip_length);
    if (!v4) w->Field("flow_label", p.flow_label);
    w->Field("fragment", p.is_fragment);
    if (p.is_fragment) {
      w->Field("fragment_offset", uint32_t{p.fragment_offset});
      w->Field("more_fragments", p.more_fragments);
    }
  }
  if (p.has_ports) {
    w->Field("src_port", uint32_t{p.src_port}).Field("dst_port", uint32_t{p.dst_port});
    if (p.protocol == 6) w->Field("tcp_flags", uint32_t{p.tcp_flags});
  }
  if (p.has_icmp) {
    w->Field("icmp_type", uint32_t{p.icmp_type}).Field("icmp_code", uint32_t{p.icmp_code});
  }
  w->EndObject();
}

void JsonUnknownRecord(const sf::UnknownRecord& u, JsonWriter* w) {
  w->Field("length", static_cast<uint64_t>(u.data.size()));
  w->Field("data", HexString(u.data.data(), u.data.size()));
}

// What a record adds after its fields: only the sampled header has more (its decoded packet).
void JsonExtra(const sf::DecodedSampledHeader& h, JsonWriter* w) { JsonParsedPacket(h, w); }
template <typename Record>
void JsonExtra(const Record&, JsonWriter*) {}

template <typename Record>
void JsonRecordBody(const Record& r, JsonWriter* w) {
  JsonFields fields(w);
  sf::VisitFields(r, fields);
  JsonExtra(r, w);
}
void JsonRecordBody(const sf::UnknownRecord& u, JsonWriter* w) { JsonUnknownRecord(u, w); }

template <typename Variant>
void JsonRecord(const Variant& rec, const char* name, JsonWriter* w) {
  w->BeginObject();
  JsonTag(name, sf::RecordTag(rec), w);
  std::visit([w](const auto& r) { JsonRecordBody(r, w); }, rec);
  w->EndObject();
}

bool HasAddress(const hal::base::Endpoint& ep) {
  return ep.address.family() != IpAddress::Family::kNone;
}

// "192.0.2.1:40000" or "192.0.2.1:40000 > 192.0.2.9:6343".
std::string Route(const DatagramMeta& meta) {
  std::string s = meta.source.ToString();
  if (HasAddress(meta.destination)) s += " > " + meta.destination.ToString();
  return s;
}

void JsonMeta(const DatagramMeta& meta, JsonWriter* w) {
  w->Key("time").Double(static_cast<double>(meta.time.ns()) / 1e9, 6);
  w->Field("source", meta.source.ToString());
  if (HasAddress(meta.destination)) {
    w->Field("destination", meta.destination.ToString());
  } else {
    w->Key("destination").Null();
  }
  w->Field("length", static_cast<uint64_t>(meta.length));
}

}  // namespace

std::string MacText(const uint8_t* m) {
  return Printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

std::string UuidText(const uint8_t* u) {
  return Printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                u[15]);
}

std::string FloatText(float x) { return Printf("%.2f", static_cast<double>(x)); }

std::string AddressOrUnknown(const IpAddress& a) {
  return a.family() == IpAddress::Family::kNone ? "unknown" : a.ToString();
}

std::string Printable(const std::string& s) {
  std::string printable;
  for (char c : s) printable += (c >= 0x20 && c < 0x7f) ? c : '?';
  return printable;
}

const char* ValueName(sf::ValueNames names, uint32_t value) {
  switch (names) {
    case sf::ValueNames::kHeaderProtocol:
      return sf::HeaderProtocolName(value);
    case sf::ValueNames::kDropReason:
      return sf::DropReasonName(value);
  }
  return nullptr;
}

void HexLines(const uint8_t* data, size_t size, const char* indent, std::string* out) {
  for (size_t i = 0; i < size; i += 16) {
    *out += indent;
    *out += Printf("%04zx ", i);
    for (size_t j = i; j < i + 16 && j < size; ++j) *out += Printf(" %02x", data[j]);
    *out += "\n";
  }
}

void JsonNamed(const char* key, uint32_t value, sf::ValueNames names, JsonWriter* w) {
  w->Field(key, value);
  const std::string name_key = std::string(key) + "_name";
  if (const char* name = ValueName(names, value)) {
    w->Field(name_key, name);
  } else {
    w->Key(name_key).Null();
  }
}

void JsonIp(const char* key, const IpAddress& a, JsonWriter* w) {
  if (a.family() == IpAddress::Family::kNone) {
    w->Key(key).Null();
  } else {
    w->Field(key, a.ToString());
  }
}

std::string FormatWallTime(hal::base::WallTime t) {
  const int64_t ns = t.ns();
  const time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm_utc);
  return Printf("%s.%06" PRId64 "Z", buf, (ns % 1000000000) / 1000);
}

std::string HumanBytes(double bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000 && u < 6) {
    bytes /= 1000;
    ++u;
  }
  if (u == 0) return Printf("%.0f B", bytes);
  return Printf(bytes < 100 ? "%.2f %s" : "%.1f %s", bytes, kUnits[u]);
}

std::string HumanCount(double n) {
  static const char* const kUnits[] = {"", " k", " M", " G", " T", " P", " E"};
  int u = 0;
  while (n >= 1000 && u < 6) {
    n /= 1000;
    ++u;
  }
  if (u == 0)
    return Printf(n == static_cast<double>(static_cast<uint64_t>(n)) ? "%.0f" : "%.1f", n);
  return Printf(n < 100 ? "%.2f%s" : "%.1f%s", n, kUnits[u]);
}

void AppendText(const sf::DecodedDatagram& d, const DatagramMeta& meta, const TextOptions& opt,
                std::string* out) {
  *out += FormatWallTime(meta.time) + "  " + Route(meta) + Printf("  %zu bytes\n", meta.length);
  *out += "  datagram  agent " + AddressOrUnknown(d.header.agent_address) +
          Printf("  sub_agent %u  seq %u  uptime ", d.header.sub_agent_id, d.header.sequence) +
          UptimeText(d.header.uptime_ms) + Printf("  samples %zu\n", d.samples.size());
  for (const sf::DecodedSample& sample : d.samples) {
    const uint32_t tag = sf::SampleTag(sample);
    if (const auto* fs = std::get_if<sf::DecodedFlowSample>(&sample)) {
      *out +=
          std::string("  ") + sf::SampleName(tag) + Printf("  seq %u  ", fs->sequence) +
          SourceText(fs->source) +
          Printf("  rate 1:%u  pool %u  drops %u", fs->sampling_rate, fs->sample_pool, fs->drops) +
          "  in " + InterfaceText(fs->input, false) + "  out " + InterfaceText(fs->output, true) +
          "\n";
      for (const auto& r : fs->records) RecordLine(r, FlowName(r), opt, out);
    } else if (const auto* cs = std::get_if<sf::DecodedCounterSample>(&sample)) {
      *out += std::string("  ") + sf::SampleName(tag) + Printf("  seq %u  ", cs->sequence) +
              SourceText(cs->source) + "\n";
      for (const auto& r : cs->records) RecordLine(r, CounterName(r), opt, out);
    } else if (const auto* ds = std::get_if<sf::DecodedDiscardSample>(&sample)) {
      const char* reason = sf::DropReasonName(ds->reason);
      *out += std::string("  ") + sf::SampleName(tag) + Printf("  seq %u  ", ds->sequence) +
              SourceText(ds->source) + Printf("  reason %u", ds->reason) +
              (reason ? std::string(" ") + reason : "") +
              Printf("  drops %u  in %u  out %u\n", ds->drops, ds->input, ds->output);
      for (const auto& r : ds->records) RecordLine(r, FlowName(r), opt, out);
    } else if (const auto* us = std::get_if<sf::UnknownSample>(&sample)) {
      *out += "  unknown sample " + TagString(us->enterprise, us->format) +
              Printf("  %zu bytes\n", us->data.size());
      if (opt.hex) HexLines(us->data.data(), us->data.size(), "      ", out);
    }
  }
  *out += "\n";
}

void AppendTextError(const DatagramMeta& meta, const std::string& message, std::string* out) {
  *out += FormatWallTime(meta.time) + "  " + Route(meta) + Printf("  %zu bytes\n", meta.length) +
          "  MALFORMED  " + message + "\n\n";
}

void WriteJson(const sf::DecodedDatagram& d, const DatagramMeta& meta, JsonWriter* w) {
  w->BeginObject().Key("datagram").BeginObject();
  JsonMeta(meta, w);
  w->Field("version", d.version);
  JsonIp("agent", d.header.agent_address, w);
  w->Field("sub_agent_id", d.header.sub_agent_id)
      .Field("sequence", d.header.sequence)
      .Field("uptime_ms", d.header.uptime_ms);
  w->Key("samples").BeginArray();
  for (const sf::DecodedSample& sample : d.samples) {
    const uint32_t tag = sf::SampleTag(sample);
    w->BeginObject();
    JsonTag(sf::SampleName(tag), tag, w);
    JsonFields fields(w);
    if (const auto* fs = std::get_if<sf::DecodedFlowSample>(&sample)) {
      w->Field("expanded", fs->expanded);
      fs->Fields(*fs, fields, fs->expanded);
      w->Key("records").BeginArray();
      for (const auto& r : fs->records) JsonRecord(r, FlowName(r), w);
      w->EndArray();
    } else if (const auto* cs = std::get_if<sf::DecodedCounterSample>(&sample)) {
      w->Field("expanded", cs->expanded);
      cs->Fields(*cs, fields, cs->expanded);
      w->Key("records").BeginArray();
      for (const auto& r : cs->records) JsonRecord(r, CounterName(r), w);
      w->EndArray();
    } else if (const auto* ds = std::get_if<sf::DecodedDiscardSample>(&sample)) {
      ds->Fields(*ds, fields, true);
      w->Key("records").BeginArray();
      for (const auto& r : ds->records) JsonRecord(r, FlowName(r), w);
      w->EndArray();
    } else if (const auto* us = std::get_if<sf::UnknownSample>(&sample)) {
      w->Field("length", static_cast<uint64_t>(us->data.size()));
      w->Field("data", HexString(us->data.data(), us->data.size()));
    }
    w->EndObject();
  }
  w->EndArray();
  w->EndObject().EndObject();
}

void WriteJsonError(const DatagramMeta& meta, const std::string& message, JsonWriter* w) {
  w->BeginObject().Key("error").BeginObject();
  JsonMeta(meta, w);
  w->Field("message", message);
  w->EndObject().EndObject();
}

}  // namespace xflowd::tools::xflowdump
