// SflowMib: the sFlow MIB (SFLOW-MIB v1.3, sflow.org; RFC 3176 for v1.2) over the running
// Daemon, with no Net-SNMP in sight: the AgentX glue (agentx_subagent.cc) only converts OIDs and
// values. Reads come from the daemon itself (its agent's samplers, pollers, collectors); writes
// become a Config handed to Daemon::Reload, the path a file reload takes, so nothing else is
// reset and every sequence number continues (docs/snmp.md, docs/decisions.md).
//
// Mapping:
//   sFlowRcvrTable rows 1..N (snmp.receivers) are free for managers; rows N+1.. are the
//   configuration's collectors (owner "config", read-only: notWritable), all of them ONE agent
//   receiver (the daemon's). A claimed row with an address is an agent receiver of its own
//   (Daemon::SetExtraReceiver: its datagrams, sequence, size, one collector) until its timeout
//   runs out or its owner is cleared; then the samplers and pollers sending to it go idle
//   (receiver 0) and the row is free.
//   sFlowFsTable / sFlowCpTable: one row per port with a sampler or poller, indexed by
//   (SNMPv2-SMI::mib-2.2.2.1.1.<ifindex>, instance 1). sFlowFsReceiver / sFlowCpReceiver pick
//   the receiver (0: idle; any config row: the configuration's receiver). Rate (0: off),
//   header size and interval sets become a per-port override; the file's own settings for that
//   port replace it (and the port's receivers) on reload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "hal/base/clock.h"
#include "hal/base/ip_address.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/base/time.h"

namespace xflowd::agent::daemon {
class Daemon;
}

namespace xflowd::agent::snmp {

using Oid = std::vector<uint32_t>;

// sFlowAgent: enterprises.inMon(14706).sFlowMIB(1).sFlowAgent(1).
extern const Oid kSflowAgentOid;
// ifIndex-based data sources: SNMPv2-SMI::mib-2.interfaces.ifTable.ifEntry.ifIndex.<ifindex>.
extern const Oid kIfIndexOid;

// The SMI types the MIB uses (INTEGER/Integer32, OCTET STRING).
enum class Type : uint8_t { kInteger, kOctets, kOther };
struct Value {
  Type type = Type::kOther;
  int64_t integer = 0;
  std::string octets;
  static Value Int(int64_t v) { return {Type::kInteger, v, {}}; }
  static Value Str(std::string s) { return {Type::kOctets, 0, std::move(s)}; }
  bool operator==(const Value& o) const {
    return type == o.type && integer == o.integer && octets == o.octets;
  }
};

// SNMP error-status values (RFC 3416), numbered as the protocol numbers them.
enum class Error : uint8_t {
  kNoError = 0,
  kGenErr = 5,
  kWrongType = 7,
  kWrongLength = 8,
  kWrongValue = 10,
  kNoCreation = 11,
  kInconsistentValue = 12,
  kNotWritable = 17,
};
const char* ErrorName(Error e);

// Which object an OID under sFlowAgent names, decoded from its sub-identifiers.
enum class Object : uint8_t {
  kNone,
  kVersion,           // sFlowVersion.0
  kAgentAddressType,  // sFlowAgentAddressType.0
  kAgentAddress,      // sFlowAgentAddress.0
  kRcvr,              // sFlowRcvrEntry.<column>.<index>
  kFs,                // sFlowFsEntry.<column>.<data source>.<instance>
  kCp,                // sFlowCpEntry.<column>.<data source>.<instance>
};
struct Name {
  Object object = Object::kNone;
  uint32_t column = 0;
  uint32_t index = 0;  // receiver index, or the data source's ifindex
  uint32_t instance = 0;
};
// Decodes an OID under kSflowAgentOid; kNone if it names nothing the MIB defines (a wrong
// prefix, column, index length, or a data source other than an ifIndex one).
Name Decode(const uint32_t* sub, size_t n);
Oid Encode(const Name& name);

// The pure check of one value for one writable column (type, length, range): what can be
// decided without the MIB's state. kNotWritable for read-only or unknown objects.
Error CheckValue(const Name& name, const Value& value);

// One variable of a set request.
struct SetVar {
  Oid oid;
  Value value;
};

struct SflowMibOptions {
  uint32_t receivers = 4;  // rows free for managers (config::SnmpConfig::receivers)
  std::string version;     // xflowd's version, for sFlowVersion "1.3;xflowd;<version>"
};

struct SflowMibStats {
  uint64_t sets = 0;               // set requests applied
  uint64_t sets_refused = 0;       // set requests refused (an SNMP error)
  uint64_t apply_errors = 0;       // accepted sets the daemon could not apply (genErr)
  uint64_t claims = 0;             // receivers claimed
  uint64_t expiries = 0;           // receivers released by their timeout
  uint64_t overrides_dropped = 0;  // SNMP port settings a file reload replaced
};

class SflowMib {
 public:
  // `daemon` and `logger` must outlive the MIB. The configuration running now is the file's
  // (nothing was set over SNMP yet).
  SflowMib(daemon::Daemon& daemon, const SflowMibOptions& options, hal::base::Logger& logger);

  // The whole MIB now, in OID order (a walk's answer).
  std::vector<std::pair<Oid, Value>> Snapshot() const;
  // GET: the value, or nullopt (noSuchInstance/noSuchObject).
  std::optional<Value> Get(const Oid& oid) const;
  // GETNEXT: the first object after `oid` (under sFlowAgent), or nullopt at the end.
  std::optional<std::pair<Oid, Value>> GetNext(const Oid& oid) const;

  // SET in the phases of RFC 3416: Check decides everything (per variable, then the request as
  // a whole: claims, ownership, address type and length); Apply applies a checked request in
  // one Daemon::Reload. `*bad` is the index of the variable at fault.
  Error Check(const std::vector<SetVar>& vars, size_t* bad);
  // kNoError, or kGenErr when the daemon refused the resulting configuration (logged; the
  // MIB and the daemon keep what they had).
  Error Apply(const std::vector<SetVar>& vars);
  // Puts back what the last Apply changed (another part of the same request failed).
  void Undo();

  // With the daemon's clock: releases the receivers whose timeout ran out (their collectors
  // leave the daemon). Call at least once a second.
  void Tick(hal::base::MonoTime now);

  // A file reload (Daemon's reload overlay): `file` is the configuration just read; adds what
  // SNMP set and still applies (claimed receivers; port settings for ports whose file settings
  // did not change since the set) and records `file` as the new base.
  void OverlayOnFile(config::Config* file);

  const SflowMibStats& stats() const { return stats_; }
  // Receivers claimed now, ports with SNMP settings now.
  size_t claimed() const;
  size_t ports_set() const { return state_.ports.size(); }
  // One line for logs and the exit summary.
  std::string Summary() const;

 private:
  struct Receiver {
    std::string owner;  // empty: free
    hal::base::MonoTime expires;
    int64_t address_type = 0;  // InetAddressType: 0 unknown, 1 ipv4, 2 ipv6
    std::string address;       // 0, 4 or 16 octets
    uint32_t port = config::kDefaultSflowPort;
    uint32_t max_datagram = 1400;  // sFlowRcvrMaximumDatagramSize's DEFVAL
    bool active() const;           // claimed and pointed at an address
    std::optional<hal::base::Endpoint> endpoint() const;
  };
  // What SNMP set on one port, over the file's settings for it (`base`).
  struct PortSet {
    config::PortSettings base;
    std::optional<uint32_t> sampling_rate;
    std::optional<uint32_t> header_bytes;
    std::optional<uint32_t> polling_interval_s;
    // sFlowFsReceiver / sFlowCpReceiver rows; unset: the configuration's receiver.
    std::optional<uint32_t> fs_receiver;
    std::optional<uint32_t> cp_receiver;
  };
  struct State {
    std::vector<Receiver> receivers;  // rows 1..N
    std::map<uint32_t, PortSet> ports;
  };

  // Snapshot(), reused for kCacheTtl: a walk is one GETNEXT per object, and computing the
  // whole MIB for each made a walk quadratic. A set, a release or a reload drops it.
  const std::vector<std::pair<Oid, Value>>& Cached() const;
  void Invalidate() { cache_time_.reset(); }
  // The running daemon's data sources: ifindexes with a sampler or poller.
  std::vector<uint32_t> DataSources() const;
  bool HasDataSource(uint32_t ifindex) const;
  // The row a port's sampler (fs) or poller (!fs) sends to in `s`: a claimed row, the first
  // config row, or 0.
  uint32_t RowOf(const State& s, uint32_t ifindex, bool fs) const;
  // The daemon's receiver id for a row (Daemon::kConfigReceiver for the config rows).
  uint32_t DaemonId(uint32_t row) const;
  // May a data source be pointed at `row` in `s`: 0, a config row or a claimed row.
  bool RowUsable(const State& s, uint32_t row) const;
  // Makes the daemon's receivers and port attachments what `s` says (ports only: the
  // receivers stay). An error (a collector's transport) leaves the receivers partly done:
  // the caller syncs the previous state again.
  hal::base::Status Sync(const State& s, bool ports_only = false);
  // Applies `vars` to `s`; the first error stops it.
  Error Stage(const std::vector<SetVar>& vars, State* s, size_t* bad) const;
  config::Config Build(const State& s) const;
  // Frees row `index` (1-based) in `s`; data sources sending to it go idle (receiver 0).
  static void Release(State* s, size_t index);

  daemon::Daemon& daemon_;
  SflowMibOptions options_;
  hal::base::Logger& logger_;
  config::Config file_;  // the configuration without SNMP's changes
  State state_;
  std::optional<State> undo_;  // before the last Apply
  SflowMibStats stats_;
  mutable std::vector<std::pair<Oid, Value>> cache_;
  mutable std::optional<hal::base::MonoTime> cache_time_;
};

}  // namespace xflowd::agent::snmp
