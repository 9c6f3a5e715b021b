// OVSDB wire layer (RFC 7047 JSON-RPC, Open vSwitch's schema): pure, no sockets. Splits the
// byte stream into JSON texts, parses replies and update notifications of the "monitor" call
// into a model of the Bridge, Port, Interface and sFlow rows xflowd needs, and builds the
// requests xflowd sends (monitor, echo reply, transactions on the sFlow table).
//
// Everything here is control plane: it allocates, and reports bad input as a Status (never a
// throw or a crash); it is what the golden-message tests and the fuzz target hit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hal/base/status.h"

namespace xflowd::hal::ovs {

// OVSDB sends JSON texts back to back with no delimiter: this finds their ends by counting
// brackets outside strings. Feed bytes as they arrive, then take whole texts with Next().
class JsonStreamSplitter {
 public:
  static constexpr size_t kMaxMessageBytes = 64u << 20;  // a monitor reply of a big switch
  void Feed(const char* data, size_t size) { buffer_.append(data, size); }
  // The next complete text, if any. An error (a text over kMaxMessageBytes, or bytes that
  // cannot start one) leaves the stream unusable: the caller reconnects.
  base::Result<std::optional<std::string>> Next();
  void Clear();
  size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
  size_t scan_ = 0;  // bytes of buffer_ already scanned for the current text
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
};

// One row of each table, the columns xflowd monitors. Integers OVSDB leaves empty (an empty
// set) stay unset.
struct InterfaceRow {
  std::string uuid;
  std::string name;
  std::string type;  // "" (system), "internal", "patch", ...
  std::optional<int64_t> ofport;
  std::optional<int64_t> ifindex;
  std::string admin_state;  // "up", "down" or ""
  std::string link_state;
  std::optional<int64_t> link_speed;  // bit/s
  std::string mac_in_use;             // "aa:bb:cc:dd:ee:ff"
  std::optional<int64_t> mtu;
  std::map<std::string, int64_t> statistics;  // rx_packets, tx_bytes, rx_dropped, ...
  std::map<std::string, std::string> external_ids;
};
struct PortRow {
  std::string uuid;
  std::string name;
  std::vector<std::string> interfaces;  // uuids
};
struct BridgeRow {
  std::string uuid;
  std::string name;
  std::string datapath_type;
  std::vector<std::string> ports;  // uuids
  std::string sflow;               // uuid, "" if none
};
struct SflowRow {
  std::string uuid;
  std::string agent;
  std::vector<std::string> targets;
  std::optional<int64_t> sampling;
  std::optional<int64_t> polling;
  std::optional<int64_t> header;
  std::map<std::string, std::string> external_ids;
};

// The database as the monitor shows it.
class OvsdbModel {
 public:
  // Applies a <table-updates> object (the monitor reply's result, or the second parameter of
  // an "update" notification). Atomic: on error the model is unchanged.
  base::Status ApplyUpdates(std::string_view table_updates_json);
  void Clear();

  const std::map<std::string, BridgeRow>& bridges() const { return bridges_; }
  const std::map<std::string, PortRow>& ports() const { return ports_; }
  const std::map<std::string, InterfaceRow>& interfaces() const { return interfaces_; }
  const std::map<std::string, SflowRow>& sflows() const { return sflows_; }
  const BridgeRow* FindBridge(std::string_view name) const;
  const SflowRow* FindSflow(const std::string& uuid) const;
  // The bridge whose ports hold this interface; null if none.
  const BridgeRow* BridgeOfInterface(const std::string& interface_uuid) const;

 private:
  std::map<std::string, BridgeRow> bridges_;
  std::map<std::string, PortRow> ports_;
  std::map<std::string, InterfaceRow> interfaces_;
  std::map<std::string, SflowRow> sflows_;
};

// A message from the server, classified.
struct OvsdbMessage {
  enum class Kind { kReply, kNotification, kRequest };
  Kind kind = Kind::kReply;
  std::optional<int64_t> id;    // replies: the request's id (xflowd's ids are integers)
  std::string method;           // notifications and requests ("update", "echo")
  std::string error;            // replies: "" or the error (with its details)
  std::string result_json;      // replies: the result, as JSON text
  std::string params_json;      // notifications and requests: the params array
  std::string update_json;      // "update": its <table-updates> (params[1])
  std::string request_id_json;  // requests: the id as sent (echo replies repeat it)
};
base::Result<OvsdbMessage> ParseMessage(std::string_view text);

// Requests. `id` is the JSON-RPC id the reply will carry.
std::string MonitorRequest(int64_t id, const std::string& monitor_id = "xflowd");
std::string EchoReply(const OvsdbMessage& echo_request);
std::string EchoRequest(int64_t id);

// What xflowd writes into one bridge's sFlow row.
struct SflowSettings {
  std::vector<std::string> targets;  // "127.0.0.1:40000"
  std::string agent;                 // an interface name; "" lets OVS choose
  int64_t sampling = 0;
  int64_t polling = 0;
  int64_t header = 128;
  std::map<std::string, std::string> external_ids;  // xflowd's marker
};
// One transaction: for every (bridge uuid, existing own row uuid or "") a row is inserted and
// attached, or the existing row is updated in place.
struct SflowWrite {
  std::string bridge_uuid;
  std::string existing_sflow_uuid;  // "" = insert a new row
  SflowSettings settings;
};
std::string SflowTransaction(int64_t id, const std::vector<SflowWrite>& writes);
// Detaches the rows from their bridges (OVSDB garbage-collects the unreferenced sFlow rows).
// Only where the bridge still points at `sflow_uuid` (another writer may have replaced it).
struct SflowDetach {
  std::string bridge_uuid;
  std::string sflow_uuid;
};
std::string SflowDetachTransaction(int64_t id, const std::vector<SflowDetach>& detaches);
// A transact reply's error, if any ("" when every operation succeeded).
std::string TransactError(std::string_view result_json);
// The uuid an "insert" (operation `index`, from 0) of a transact reply made; "" if none.
std::string InsertedUuid(std::string_view result_json, size_t index);
// Reads the sFlow row back: a select of its sampling column, and the value from its reply.
std::string SflowSelect(int64_t id, const std::string& sflow_uuid);
base::Result<int64_t> SelectedSampling(std::string_view result_json);

}  // namespace xflowd::hal::ovs
