#include "agent/snmp/sflow_mib.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "agent/daemon/daemon.h"
#include "exporter/sflow/sflow_types.h"

namespace xflowd::agent::snmp {

using hal::base::LogLevel;
using hal::base::MonoTime;

const Oid kSflowAgentOid = {1, 3, 6, 1, 4, 1, 14706, 1, 1};
const Oid kIfIndexOid = {1, 3, 6, 1, 2, 1, 2, 2, 1, 1};

namespace {

// sFlowAgent's children.
constexpr uint32_t kVersionArc = 1;
constexpr uint32_t kAgentAddressTypeArc = 2;
constexpr uint32_t kAgentAddressArc = 3;
constexpr uint32_t kRcvrTableArc = 4;
constexpr uint32_t kFsTableArc = 5;
constexpr uint32_t kCpTableArc = 6;

// Columns (the index columns, 1 and 2 of Fs/Cp and 1 of Rcvr, are not-accessible).
constexpr uint32_t kRcvrOwner = 2;
constexpr uint32_t kRcvrTimeout = 3;
constexpr uint32_t kRcvrMaxDatagram = 4;
constexpr uint32_t kRcvrAddressType = 5;
constexpr uint32_t kRcvrAddress = 6;
constexpr uint32_t kRcvrPort = 7;
constexpr uint32_t kRcvrVersion = 8;
constexpr uint32_t kFsReceiver = 3;
constexpr uint32_t kFsRate = 4;
constexpr uint32_t kFsHeader = 5;
constexpr uint32_t kCpReceiver = 3;
constexpr uint32_t kCpInterval = 4;

constexpr int64_t kInt32Max = 2147483647;
constexpr char kConfigOwner[] = "config";
constexpr size_t kOwnerMax = 127;  // OwnerString

// ifIndex OID + ifindex: the data source's index part, length-prefixed (an OID index that is not
// IMPLIED), then the instance.
constexpr size_t kDataSourceLen = 11;

// How long a computed MIB answers requests (a walk's GETNEXTs come back to back).
constexpr auto kCacheTtl = std::chrono::milliseconds(100);

bool IsIntColumn(Object o, uint32_t column) {
  if (o == Object::kRcvr) return column != kRcvrOwner && column != kRcvrAddress;
  return o == Object::kFs || o == Object::kCp;
}

Value AddressValue(const hal::base::IpAddress& a) {
  return Value::Str(std::string(reinterpret_cast<const char*>(a.bytes()), a.size()));
}

int64_t AddressType(const hal::base::IpAddress& a) { return a.is_v4() ? 1 : a.is_v6() ? 2 : 0; }

std::string EscapeGlob(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

bool SameSettings(const config::PortSettings& a, const config::PortSettings& b) {
  return a.sampling_rate == b.sampling_rate && a.polling_interval_s == b.polling_interval_s &&
         a.header_bytes == b.header_bytes && a.enabled == b.enabled;
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNoError:
      return "noError";
    case Error::kGenErr:
      return "genErr";
    case Error::kWrongType:
      return "wrongType";
    case Error::kWrongLength:
      return "wrongLength";
    case Error::kWrongValue:
      return "wrongValue";
    case Error::kNoCreation:
      return "noCreation";
    case Error::kInconsistentValue:
      return "inconsistentValue";
    case Error::kNotWritable:
      return "notWritable";
  }
  return "?";
}

Name Decode(const uint32_t* sub, size_t n) {
  Name none;
  const size_t p = kSflowAgentOid.size();
  if (n < p + 2 || !std::equal(kSflowAgentOid.begin(), kSflowAgentOid.end(), sub)) return none;
  const uint32_t arc = sub[p];
  const uint32_t* rest = sub + p + 1;
  const size_t left = n - p - 1;
  Name name;
  switch (arc) {
    case kVersionArc:
    case kAgentAddressTypeArc:
    case kAgentAddressArc:
      if (left != 1 || rest[0] != 0) return none;
      name.object = arc == kVersionArc            ? Object::kVersion
                    : arc == kAgentAddressTypeArc ? Object::kAgentAddressType
                                                  : Object::kAgentAddress;
      return name;
    case kRcvrTableArc:
      // .1 (entry) .column .index
      if (left != 3 || rest[0] != 1 || rest[1] < kRcvrOwner || rest[1] > kRcvrVersion) {
        return none;
      }
      if (rest[2] < 1 || rest[2] > 65535) return none;
      name.object = Object::kRcvr;
      name.column = rest[1];
      name.index = rest[2];
      return name;
    case kFsTableArc:
    case kCpTableArc: {
      const uint32_t last = arc == kFsTableArc ? kFsHeader : kCpInterval;
      // .1 (entry) .column .len .<ifIndex OID> .ifindex .instance
      if (left != 3 + kDataSourceLen + 1 || rest[0] != 1 || rest[1] < 3 || rest[1] > last) {
        return none;
      }
      if (rest[2] != kDataSourceLen ||
          !std::equal(kIfIndexOid.begin(), kIfIndexOid.end(), rest + 3)) {
        return none;
      }
      const uint32_t ifindex = rest[3 + kIfIndexOid.size()];
      const uint32_t instance = rest[3 + kDataSourceLen];
      if (ifindex < 1 || ifindex > static_cast<uint32_t>(kInt32Max) || instance < 1 ||
          instance > static_cast<uint32_t>(kInt32Max)) {
        return none;
      }
      name.object = arc == kFsTableArc ? Object::kFs : Object::kCp;
      name.column = rest[1];
      name.index = ifindex;
      name.instance = instance;
      return name;
    }
    default:
      return none;
  }
}

Oid Encode(const Name& name) {
  Oid oid = kSflowAgentOid;
  switch (name.object) {
    case Object::kNone:
      return {};
    case Object::kVersion:
      oid.insert(oid.end(), {kVersionArc, 0});
      break;
    case Object::kAgentAddressType:
      oid.insert(oid.end(), {kAgentAddressTypeArc, 0});
      break;
    case Object::kAgentAddress:
      oid.insert(oid.end(), {kAgentAddressArc, 0});
      break;
    case Object::kRcvr:
      oid.insert(oid.end(), {kRcvrTableArc, 1, name.column, name.index});
      break;
    case Object::kFs:
    case Object::kCp:
      oid.insert(oid.end(), {name.object == Object::kFs ? kFsTableArc : kCpTableArc, 1, name.column,
                             static_cast<uint32_t>(kDataSourceLen)});
      oid.insert(oid.end(), kIfIndexOid.begin(), kIfIndexOid.end());
      oid.insert(oid.end(), {name.index, name.instance});
      break;
  }
  return oid;
}

Error CheckValue(const Name& name, const Value& v) {
  if (name.object == Object::kNone) return Error::kNoCreation;
  if (name.object != Object::kRcvr && name.object != Object::kFs && name.object != Object::kCp) {
    return Error::kNotWritable;
  }
  const bool want_int = IsIntColumn(name.object, name.column);
  if (v.type != (want_int ? Type::kInteger : Type::kOctets)) return Error::kWrongType;
  if (want_int && (v.integer < -kInt32Max - 1 || v.integer > kInt32Max)) {
    return Error::kWrongValue;
  }
  auto in = [&v](int64_t lo, int64_t hi) {
    return v.integer >= lo && v.integer <= hi ? Error::kNoError : Error::kWrongValue;
  };
  if (name.object == Object::kRcvr) {
    switch (name.column) {
      case kRcvrOwner:
        return v.octets.size() <= kOwnerMax ? Error::kNoError : Error::kWrongLength;
      case kRcvrTimeout:
        return in(0, kInt32Max);
      case kRcvrMaxDatagram:
        // What an agent receiver builds (sflow::Receiver clamps to the same range).
        return in(static_cast<int64_t>(exporter::sflow::kMinDatagramBytes),
                  static_cast<int64_t>(exporter::sflow::kMaxDatagramBytes));
      case kRcvrAddressType:
        return in(1, 2);  // ipv4(1), ipv6(2)
      case kRcvrAddress:
        return v.octets.size() == 4 || v.octets.size() == 16 ? Error::kNoError
                                                             : Error::kWrongLength;
      case kRcvrPort:
        return in(1, 65535);
      case kRcvrVersion:
        return in(5, 5);  // sFlow v5 is what xflowd sends
      default:
        return Error::kNotWritable;
    }
  }
  if (name.object == Object::kFs) {
    switch (name.column) {
      case kFsReceiver:
        return in(0, 65535);
      case kFsRate:
        return in(0, kInt32Max);  // 0: sampling off (the MIB's meaning)
      case kFsHeader:
        return in(14, 256);
      default:
        return Error::kNotWritable;
    }
  }
  switch (name.column) {
    case kCpReceiver:
      return in(0, 65535);
    case kCpInterval:
      return in(0, 86400);
    default:
      return Error::kNotWritable;
  }
}

bool SflowMib::Receiver::active() const { return !owner.empty() && endpoint().has_value(); }

std::optional<hal::base::Endpoint> SflowMib::Receiver::endpoint() const {
  hal::base::IpAddress a;
  const auto* b = reinterpret_cast<const uint8_t*>(address.data());
  if (address_type == 1 && address.size() == 4) {
    a = hal::base::IpAddress::V4(b);
  } else if (address_type == 2 && address.size() == 16) {
    a = hal::base::IpAddress::V6(b);
  } else {
    return std::nullopt;
  }
  if (std::all_of(address.begin(), address.end(), [](char c) { return c == 0; })) {
    return std::nullopt;
  }
  hal::base::Endpoint e;
  e.address = a;
  e.port = static_cast<uint16_t>(port);
  return e;
}

SflowMib::SflowMib(daemon::Daemon& daemon, const SflowMibOptions& options,
                   hal::base::Logger& logger)
    : daemon_(daemon), options_(options), logger_(logger), file_(daemon.config()) {
  state_.receivers.resize(options_.receivers);
}

std::vector<uint32_t> SflowMib::DataSources() const {
  std::vector<uint32_t> out;
  for (const auto& kv : daemon_.ports()) {
    if (HasDataSource(kv.first)) out.push_back(kv.first);
  }
  return out;
}

bool SflowMib::HasDataSource(uint32_t ifindex) const {
  sflow::Agent& agent = daemon_.agent();
  return daemon_.ports().count(ifindex) > 0 &&
         (agent.FindSampler(ifindex, hal::Direction::kIngress) != nullptr ||
          agent.FindPoller(ifindex) != nullptr);
}

uint32_t SflowMib::RowOf(const State& s, uint32_t ifindex, bool fs) const {
  auto it = s.ports.find(ifindex);
  if (it != s.ports.end()) {
    const std::optional<uint32_t>& r = fs ? it->second.fs_receiver : it->second.cp_receiver;
    if (r) return *r;
  }
  return file_.agent.collectors.empty() ? 0 : options_.receivers + 1;
}

uint32_t SflowMib::DaemonId(uint32_t row) const {
  return row > options_.receivers ? daemon::Daemon::kConfigReceiver : row;
}

bool SflowMib::RowUsable(const State& s, uint32_t row) const {
  if (row == 0) return true;
  if (row <= s.receivers.size()) return !s.receivers[row - 1].owner.empty();
  return row <= s.receivers.size() + file_.agent.collectors.size();
}

hal::base::Status SflowMib::Sync(const State& s, bool ports_only) {
  hal::base::Status first;
  if (!ports_only) {
    for (size_t i = 0; i < s.receivers.size(); ++i) {
      const Receiver& r = s.receivers[i];
      const auto id = static_cast<uint32_t>(i + 1);
      auto e = r.endpoint();
      if (r.owner.empty() || !e) {
        daemon_.RemoveExtraReceiver(id);
        continue;
      }
      hal::base::Status st =
          daemon_.SetExtraReceiver(id, config::SflowCollector(*e), r.max_datagram);
      if (!st.ok() && first.ok()) first = st;
    }
  }
  for (const auto& kv : daemon_.ports()) {
    daemon_.SetPortReceivers(kv.first, DaemonId(RowOf(s, kv.first, true)),
                             DaemonId(RowOf(s, kv.first, false)));
  }
  return first;
}

std::vector<std::pair<Oid, Value>> SflowMib::Snapshot() const {
  std::vector<std::pair<Oid, Value>> out;
  const config::Config& running = daemon_.config();
  const MonoTime now = daemon_.clock().Now();
  auto add = [&out](const Name& n, Value v) { out.emplace_back(Encode(n), std::move(v)); };
  add({Object::kVersion}, Value::Str("1.3;xflowd;" + options_.version));
  const hal::base::IpAddress agent_address = running.agent.address.value_or(hal::base::IpAddress());
  add({Object::kAgentAddressType}, Value::Int(AddressType(agent_address)));
  add({Object::kAgentAddress}, AddressValue(agent_address));

  const int64_t max_datagram = running.agent.max_datagram_bytes;
  for (uint32_t col = kRcvrOwner; col <= kRcvrVersion; ++col) {
    for (size_t i = 0; i < state_.receivers.size(); ++i) {
      const Receiver& r = state_.receivers[i];
      Value v;
      switch (col) {
        case kRcvrOwner:
          v = Value::Str(r.owner);
          break;
        case kRcvrTimeout: {
          int64_t left = 0;
          if (!r.owner.empty() && r.expires > now) {
            left = (std::chrono::duration_cast<std::chrono::milliseconds>(r.expires - now).count() +
                    999) /
                   1000;
          }
          v = Value::Int(left);
          break;
        }
        case kRcvrMaxDatagram:
          v = Value::Int(r.max_datagram);
          break;
        case kRcvrAddressType:
          v = Value::Int(r.address_type);
          break;
        case kRcvrAddress:
          v = Value::Str(r.address);
          break;
        case kRcvrPort:
          v = Value::Int(r.port);
          break;
        default:
          v = Value::Int(5);
      }
      add({Object::kRcvr, col, static_cast<uint32_t>(i + 1)}, v);
    }
    for (size_t j = 0; j < file_.agent.collectors.size(); ++j) {
      const config::SflowCollector& c = file_.agent.collectors[j];
      Value v;
      switch (col) {
        case kRcvrOwner:
          v = Value::Str(kConfigOwner);
          break;
        case kRcvrTimeout:
          v = Value::Int(kInt32Max);  // never expires
          break;
        case kRcvrMaxDatagram:
          v = Value::Int(max_datagram);
          break;
        case kRcvrAddressType:
          v = Value::Int(AddressType(c.address));
          break;
        case kRcvrAddress:
          v = AddressValue(c.address);
          break;
        case kRcvrPort:
          v = Value::Int(c.port);
          break;
        default:
          v = Value::Int(5);
      }
      add({Object::kRcvr, col, static_cast<uint32_t>(options_.receivers + 1 + j)}, v);
    }
  }

  sflow::Agent& agent = daemon_.agent();
  const std::vector<uint32_t> sources = DataSources();
  for (uint32_t col = kFsReceiver; col <= kFsHeader; ++col) {
    for (uint32_t ifindex : sources) {
      const sflow::Sampler* s = agent.FindSampler(ifindex, hal::Direction::kIngress);
      int64_t v = 0;
      if (col == kFsReceiver) {
        v = s != nullptr ? RowOf(state_, ifindex, true) : 0;
      } else if (col == kFsRate) {
        v = s != nullptr ? std::min<int64_t>(s->sampling_rate(), kInt32Max) : 0;
      } else {
        v = s != nullptr ? s->config().header_bytes : running.ports.header_bytes;
      }
      add({Object::kFs, col, ifindex, 1}, Value::Int(v));
    }
  }
  for (uint32_t col = kCpReceiver; col <= kCpInterval; ++col) {
    for (uint32_t ifindex : sources) {
      const sflow::Poller* p = agent.FindPoller(ifindex);
      int64_t v = 0;
      if (p != nullptr)
        v = col == kCpReceiver ? RowOf(state_, ifindex, false) : p->config().interval_s;
      add({Object::kCp, col, ifindex, 1}, Value::Int(v));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

const std::vector<std::pair<Oid, Value>>& SflowMib::Cached() const {
  const MonoTime now = daemon_.clock().Now();
  if (!cache_time_ || now < *cache_time_ || now - *cache_time_ >= kCacheTtl) {
    cache_ = Snapshot();
    cache_time_ = now;
  }
  return cache_;
}

std::optional<Value> SflowMib::Get(const Oid& oid) const {
  const auto& all = Cached();
  auto it = std::lower_bound(all.begin(), all.end(), oid,
                             [](const auto& entry, const Oid& o) { return entry.first < o; });
  if (it == all.end() || it->first != oid) return std::nullopt;
  return it->second;
}

std::optional<std::pair<Oid, Value>> SflowMib::GetNext(const Oid& oid) const {
  const auto& all = Cached();
  auto it = std::upper_bound(all.begin(), all.end(), oid,
                             [](const Oid& o, const auto& entry) { return o < entry.first; });
  if (it == all.end()) return std::nullopt;
  return *it;
}

Error SflowMib::Stage(const std::vector<SetVar>& vars, State* s, size_t* bad) const {
  const size_t rows = s->receivers.size();
  const size_t config_rows = file_.agent.collectors.size();
  const MonoTime now = daemon_.clock().Now();
  std::vector<Name> names;
  // Per variable: existence, writability, type and range.
  for (size_t i = 0; i < vars.size(); ++i) {
    *bad = i;
    const Name n = Decode(vars[i].oid.data(), vars[i].oid.size());
    names.push_back(n);
    if (n.object == Object::kRcvr) {
      if (n.index > rows + config_rows) return Error::kNoCreation;
      if (n.index > rows) return Error::kNotWritable;  // the configuration's own
    } else if (n.object == Object::kFs || n.object == Object::kCp) {
      if (n.instance != 1 || !HasDataSource(n.index)) return Error::kNoCreation;
    }
    const Error e = CheckValue(n, vars[i].value);
    if (e != Error::kNoError) return e;
  }
  // Receivers: a claim names the owner and a timeout together; only a claimed row changes; a
  // row claimed by another owner is released by that owner (or its timeout) first.
  std::vector<size_t> released;
  for (size_t i = 0; i < vars.size(); ++i) {
    const Name& n = names[i];
    if (n.object != Object::kRcvr) continue;
    *bad = i;
    Receiver& r = s->receivers[n.index - 1];
    const Receiver& before = state_.receivers[n.index - 1];
    const Value& v = vars[i].value;
    // The owner this request gives the row, if it names one.
    const SetVar* owner_var = nullptr;
    const SetVar* timeout_var = nullptr;
    for (size_t j = 0; j < vars.size(); ++j) {
      if (names[j].object != Object::kRcvr || names[j].index != n.index) continue;
      if (names[j].column == kRcvrOwner) owner_var = &vars[j];
      if (names[j].column == kRcvrTimeout) timeout_var = &vars[j];
    }
    if (n.column == kRcvrOwner) {
      if (v.octets.empty()) {
        released.push_back(n.index - 1);
        continue;
      }
      if (!before.owner.empty() && before.owner != v.octets) return Error::kInconsistentValue;
      if (before.owner.empty() && (timeout_var == nullptr || timeout_var->value.integer <= 0)) {
        return Error::kInconsistentValue;  // a claim without a timeout would never end
      }
      r.owner = v.octets;
      continue;
    }
    const bool claimed =
        !before.owner.empty() || (owner_var != nullptr && !owner_var->value.octets.empty());
    if (!claimed) return Error::kInconsistentValue;
    switch (n.column) {
      case kRcvrTimeout:
        if (v.integer == 0) {
          released.push_back(n.index - 1);
        } else {
          r.expires = now + std::chrono::seconds(v.integer);
        }
        break;
      case kRcvrMaxDatagram:
        r.max_datagram = static_cast<uint32_t>(v.integer);
        break;
      case kRcvrAddressType:
        r.address_type = v.integer;
        break;
      case kRcvrAddress:
        r.address = v.octets;
        break;
      case kRcvrPort:
        r.port = static_cast<uint32_t>(v.integer);
        break;
      default:  // kRcvrVersion: 5, checked above
        break;
    }
  }
  // The type and the address agree once the whole request is in.
  for (size_t i = 0; i < vars.size(); ++i) {
    const Name& n = names[i];
    if (n.object != Object::kRcvr || (n.column != kRcvrAddress && n.column != kRcvrAddressType)) {
      continue;
    }
    const Receiver& r = s->receivers[n.index - 1];
    if (r.address.empty()) continue;
    const size_t want = r.address_type == 1 ? 4 : r.address_type == 2 ? 16 : 0;
    if (r.address.size() != want) {
      *bad = i;
      return Error::kInconsistentValue;
    }
  }
  for (size_t idx : released) Release(s, idx + 1);

  // Data sources: the receiver must be 0, a config row or a claimed row; receivers, rates,
  // header sizes and intervals are recorded over the file's settings for the port.
  for (size_t i = 0; i < vars.size(); ++i) {
    const Name& n = names[i];
    if (n.object != Object::kFs && n.object != Object::kCp) continue;
    *bad = i;
    const int64_t v = vars[i].value.integer;
    const auto u = static_cast<uint32_t>(v);
    // kCpReceiver is the same column number.
    if (n.column == kFsReceiver && !RowUsable(*s, u)) return Error::kInconsistentValue;
    const hal::PortInfo& port = daemon_.ports().at(n.index);
    PortSet& ps = s->ports[n.index];
    ps.base = config::SettingsFor(file_.ports, port.name, port.speed_bps);
    if (n.object == Object::kFs && n.column == kFsReceiver) ps.fs_receiver = u;
    if (n.object == Object::kCp && n.column == kCpReceiver) ps.cp_receiver = u;
    if (n.object == Object::kFs && n.column == kFsRate) ps.sampling_rate = u;
    if (n.object == Object::kFs && n.column == kFsHeader) ps.header_bytes = u;
    if (n.object == Object::kCp && n.column == kCpInterval) ps.polling_interval_s = u;
  }
  return Error::kNoError;
}

Error SflowMib::Check(const std::vector<SetVar>& vars, size_t* bad) {
  State s = state_;
  *bad = 0;
  const Error e = Stage(vars, &s, bad);
  if (e != Error::kNoError) ++stats_.sets_refused;
  return e;
}

config::Config SflowMib::Build(const State& s) const {
  config::Config c = file_;
  std::vector<config::PortOverride> mine;
  for (const auto& [ifindex, ps] : s.ports) {
    auto it = daemon_.ports().find(ifindex);
    if (it == daemon_.ports().end()) continue;
    if (!ps.sampling_rate && !ps.polling_interval_s && !ps.header_bytes) continue;
    config::PortOverride o;
    o.pattern = EscapeGlob(it->second.name);
    o.sampling_rate = ps.sampling_rate.value_or(ps.base.sampling_rate);
    o.polling_interval_s = ps.polling_interval_s.value_or(ps.base.polling_interval_s);
    o.header_bytes = ps.header_bytes.value_or(ps.base.header_bytes);
    mine.push_back(o);
  }
  // First: the first matching override decides.
  c.ports.overrides.insert(c.ports.overrides.begin(), mine.begin(), mine.end());
  return c;
}

Error SflowMib::Apply(const std::vector<SetVar>& vars) {
  State s = state_;
  size_t bad = 0;
  Error e = Stage(vars, &s, &bad);
  if (e != Error::kNoError) {
    ++stats_.sets_refused;
    return e;
  }
  hal::base::Status st = daemon_.Reload(Build(s));
  if (st.ok()) {
    st = Sync(s);
    if (!st.ok()) {  // a collector's transport: put back what was
      (void)daemon_.Reload(Build(state_));
      (void)Sync(state_);
    }
  }
  if (!st.ok()) {
    ++stats_.apply_errors;
    logger_.Log(LogLevel::kWarning, "snmp: set not applied: %s", st.message().c_str());
    return Error::kGenErr;
  }
  for (size_t i = 0; i < s.receivers.size(); ++i) {
    const Receiver& now = s.receivers[i];
    const Receiver& was = state_.receivers[i];
    if (now.owner != was.owner) {
      if (!now.owner.empty()) ++stats_.claims;
      logger_.Log(LogLevel::kInfo, "snmp: receiver %zu %s%s", i + 1,
                  now.owner.empty() ? "released by " : "claimed by ",
                  (now.owner.empty() ? was.owner : now.owner).c_str());
    }
  }
  undo_ = std::move(state_);
  state_ = std::move(s);
  Invalidate();
  ++stats_.sets;
  return Error::kNoError;
}

void SflowMib::Undo() {
  if (!undo_) return;
  state_ = std::move(*undo_);
  undo_.reset();
  Invalidate();
  hal::base::Status st = daemon_.Reload(Build(state_));
  if (st.ok()) st = Sync(state_);
  if (!st.ok()) {
    ++stats_.apply_errors;
    logger_.Log(LogLevel::kWarning, "snmp: undoing a set: %s", st.message().c_str());
  }
}

void SflowMib::Release(State* s, size_t index) {
  s->receivers[index - 1] = Receiver();
  // The MIB: a released receiver's samplers and pollers are reset (receiver 0).
  for (auto& [ifindex, ps] : s->ports) {
    if (ps.fs_receiver == index) ps.fs_receiver = 0;
    if (ps.cp_receiver == index) ps.cp_receiver = 0;
  }
}

void SflowMib::Tick(MonoTime now) {
  State s = state_;
  bool changed = false;
  for (size_t i = 0; i < s.receivers.size(); ++i) {
    Receiver& r = s.receivers[i];
    if (r.owner.empty() || r.expires > now) continue;
    logger_.Log(LogLevel::kInfo, "snmp: receiver %zu (owner %s) timed out; released", i + 1,
                r.owner.c_str());
    Release(&s, i + 1);
    ++stats_.expiries;
    changed = true;
  }
  if (!changed) return;
  // Only receivers and attachments change: no reload needed.
  hal::base::Status st = Sync(s);
  if (!st.ok()) {
    // Cannot happen short of a transport error; the rows are freed all the same.
    ++stats_.apply_errors;
    logger_.Log(LogLevel::kWarning, "snmp: releasing timed-out receivers: %s",
                st.message().c_str());
  }
  state_ = std::move(s);
  Invalidate();
}

void SflowMib::OverlayOnFile(config::Config* file) {
  file_ = *file;
  for (auto it = state_.ports.begin(); it != state_.ports.end();) {
    auto port = daemon_.ports().find(it->first);
    if (port != daemon_.ports().end()) {
      const config::PortSettings now =
          config::SettingsFor(file->ports, port->second.name, port->second.speed_bps);
      if (SameSettings(now, it->second.base)) {
        ++it;
        continue;
      }
      logger_.Log(LogLevel::kInfo,
                  "snmp: the configuration now sets port %s; the settings made over SNMP for it "
                  "are dropped",
                  port->second.name.c_str());
    }
    ++stats_.overrides_dropped;
    it = state_.ports.erase(it);
  }
  *file = Build(state_);
  // Ports the file took back go to the configuration's receiver again (the reload attaches
  // them by what is recorded here).
  (void)Sync(state_, true);
  Invalidate();
}

size_t SflowMib::claimed() const {
  size_t n = 0;
  for (const Receiver& r : state_.receivers) n += r.owner.empty() ? 0 : 1;
  return n;
}

std::string SflowMib::Summary() const {
  const size_t claimed = this->claimed();
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "snmp: %zu of %zu receivers claimed, %zu ports set; %llu sets applied, %llu "
                "refused, %llu failed; %llu claims, %llu timeouts",
                claimed, state_.receivers.size(), state_.ports.size(),
                static_cast<unsigned long long>(stats_.sets),
                static_cast<unsigned long long>(stats_.sets_refused),
                static_cast<unsigned long long>(stats_.apply_errors),
                static_cast<unsigned long long>(stats_.claims),
                static_cast<unsigned long long>(stats_.expiries));
  return buf;
}

}  // namespace xflowd::agent::snmp
