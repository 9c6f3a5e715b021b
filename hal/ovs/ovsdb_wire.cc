#include "hal/ovs/ovsdb_wire.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace xflowd::hal::ovs {

using base::InvalidArgumentError;
using base::Result;
using base::Status;
using nlohmann::json;

namespace {

// OVSDB's nesting is shallow (an update is 6 levels deep); a deep text is not OVSDB.
constexpr int kMaxDepth = 64;

}  // namespace

Result<std::optional<std::string>> JsonStreamSplitter::Next() {
  // Whitespace between texts.
  if (depth_ == 0 && scan_ == 0) {
    size_t skip = 0;
    while (skip < buffer_.size() && (buffer_[skip] == ' ' || buffer_[skip] == '\n' ||
                                     buffer_[skip] == '\r' || buffer_[skip] == '\t')) {
      ++skip;
    }
    buffer_.erase(0, skip);
    if (buffer_.empty()) return std::optional<std::string>();
    if (buffer_[0] != '{' && buffer_[0] != '[') {
      return InvalidArgumentError("OVSDB stream: a message starts with '" +
                                  std::string(1, buffer_[0]) + "', not '{'");
    }
  }
  for (; scan_ < buffer_.size(); ++scan_) {
    const char c = buffer_[scan_];
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (++depth_ > kMaxDepth) {
        return InvalidArgumentError("OVSDB stream: a message nests deeper than " +
                                    std::to_string(kMaxDepth) + " levels");
      }
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        std::string text = buffer_.substr(0, scan_ + 1);
        buffer_.erase(0, scan_ + 1);
        scan_ = 0;
        return std::optional<std::string>(std::move(text));
      }
    }
  }
  if (buffer_.size() > kMaxMessageBytes) {
    return InvalidArgumentError("OVSDB stream: a message is longer than " +
                                std::to_string(kMaxMessageBytes) + " bytes");
  }
  return std::optional<std::string>();
}

void JsonStreamSplitter::Clear() {
  buffer_.clear();
  scan_ = 0;
  depth_ = 0;
  in_string_ = false;
  escape_ = false;
}

namespace {

// OVSDB atoms and compound values (RFC 7047 5.1). Each reader throws nothing: a value of the
// wrong shape is an error string.
struct Reader {
  std::string error;

  void Fail(const std::string& what) {
    if (error.empty()) error = what;
  }
  bool IsSet(const json& v) { return v.is_array() && v.size() == 2 && v[0] == "set"; }

  std::string String(const json& v, const char* col) {
    if (v.is_string()) return v.get<std::string>();
    if (IsSet(v) && v[1].is_array() && v[1].empty()) return "";
    if (IsSet(v) && v[1].is_array() && v[1].size() == 1 && v[1][0].is_string()) {
      return v[1][0].get<std::string>();
    }
    Fail(std::string("column ") + col + ": not a string");
    return "";
  }
  std::optional<int64_t> Integer(const json& v, const char* col) {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (IsSet(v) && v[1].is_array() && v[1].empty()) return std::nullopt;
    if (IsSet(v) && v[1].is_array() && v[1].size() == 1 && v[1][0].is_number_integer()) {
      return v[1][0].get<int64_t>();
    }
    Fail(std::string("column ") + col + ": not an integer");
    return std::nullopt;
  }
  std::string Uuid(const json& v, const char* col) {
    if (v.is_array() && v.size() == 2 && v[0] == "uuid" && v[1].is_string()) {
      return v[1].get<std::string>();
    }
    Fail(std::string("column ") + col + ": not a uuid");
    return "";
  }
  std::vector<std::string> UuidSet(const json& v, const char* col) {
    std::vector<std::string> out;
    if (IsSet(v) && v[1].is_array()) {
      for (const json& e : v[1]) out.push_back(Uuid(e, col));
    } else {
      out.push_back(Uuid(v, col));
    }
    return out;
  }
  std::vector<std::string> StringSet(const json& v, const char* col) {
    std::vector<std::string> out;
    if (IsSet(v) && v[1].is_array()) {
      for (const json& e : v[1]) {
        if (!e.is_string()) Fail(std::string("column ") + col + ": not a set of strings");
        if (e.is_string()) out.push_back(e.get<std::string>());
      }
    } else if (v.is_string()) {
      out.push_back(v.get<std::string>());
    } else {
      Fail(std::string("column ") + col + ": not a set of strings");
    }
    return out;
  }
  template <typename V>
  std::map<std::string, V> Map(const json& v, const char* col) {
    std::map<std::string, V> out;
    if (!(v.is_array() && v.size() == 2 && v[0] == "map" && v[1].is_array())) {
      Fail(std::string("column ") + col + ": not a map");
      return out;
    }
    for (const json& pair : v[1]) {
      if (!(pair.is_array() && pair.size() == 2 && pair[0].is_string())) {
        Fail(std::string("column ") + col + ": a map entry is not [string, value]");
        continue;
      }
      if constexpr (std::is_same_v<V, int64_t>) {
        if (!pair[1].is_number_integer()) {
          Fail(std::string("column ") + col + ": a value is not an integer");
          continue;
        }
        out[pair[0].get<std::string>()] = pair[1].get<int64_t>();
      } else {
        if (!pair[1].is_string()) {
          Fail(std::string("column ") + col + ": a value is not a string");
          continue;
        }
        out[pair[0].get<std::string>()] = pair[1].get<std::string>();
      }
    }
    return out;
  }
};

template <typename Row>
using Filler = void (*)(Reader&, const json& row, Row* out);

void FillInterface(Reader& r, const json& row, InterfaceRow* out) {
  for (auto it = row.begin(); it != row.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "name") out->name = r.String(v, "name");
    if (k == "type") out->type = r.String(v, "type");
    if (k == "ofport") out->ofport = r.Integer(v, "ofport");
    if (k == "ifindex") out->ifindex = r.Integer(v, "ifindex");
    if (k == "admin_state") out->admin_state = r.String(v, "admin_state");
    if (k == "link_state") out->link_state = r.String(v, "link_state");
    if (k == "link_speed") out->link_speed = r.Integer(v, "link_speed");
    if (k == "mac_in_use") out->mac_in_use = r.String(v, "mac_in_use");
    if (k == "mtu") out->mtu = r.Integer(v, "mtu");
    if (k == "statistics") out->statistics = r.Map<int64_t>(v, "statistics");
    if (k == "external_ids") out->external_ids = r.Map<std::string>(v, "external_ids");
  }
}
void FillPort(Reader& r, const json& row, PortRow* out) {
  for (auto it = row.begin(); it != row.end(); ++it) {
    if (it.key() == "name") out->name = r.String(it.value(), "name");
    if (it.key() == "interfaces") out->interfaces = r.UuidSet(it.value(), "interfaces");
  }
}
void FillBridge(Reader& r, const json& row, BridgeRow* out) {
  for (auto it = row.begin(); it != row.end(); ++it) {
    const std::string& k = it.key();
    if (k == "name") out->name = r.String(it.value(), "name");
    if (k == "datapath_type") out->datapath_type = r.String(it.value(), "datapath_type");
    if (k == "ports") out->ports = r.UuidSet(it.value(), "ports");
    if (k == "sflow") {
      std::vector<std::string> s = r.UuidSet(it.value(), "sflow");
      out->sflow = s.empty() ? "" : s[0];
    }
  }
}
void FillSflow(Reader& r, const json& row, SflowRow* out) {
  for (auto it = row.begin(); it != row.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "agent") out->agent = r.String(v, "agent");
    if (k == "targets") out->targets = r.StringSet(v, "targets");
    if (k == "sampling") out->sampling = r.Integer(v, "sampling");
    if (k == "polling") out->polling = r.Integer(v, "polling");
    if (k == "header") out->header = r.Integer(v, "header");
    if (k == "external_ids") out->external_ids = r.Map<std::string>(v, "external_ids");
  }
}

template <typename Row>
Status ApplyTable(const json& table, const char* name, Filler<Row> fill,
                  std::map<std::string, Row>* rows) {
  if (!table.is_object()) return InvalidArgumentError(std::string(name) + ": not an object");
  for (auto it = table.begin(); it != table.end(); ++it) {
    const json& u = it.value();
    if (!u.is_object()) {
      return InvalidArgumentError(std::string(name) + " row " + it.key() + ": not an object");
    }
    auto nw = u.find("new");
    if (nw == u.end()) {
      rows->erase(it.key());
      continue;
    }
    if (!nw->is_object()) {
      return InvalidArgumentError(std::string(name) + " row " + it.key() +
                                  ": new is not an object");
    }
    Row row;
    row.uuid = it.key();
    Reader r;
    fill(r, *nw, &row);
    if (!r.error.empty()) {
      return InvalidArgumentError(std::string(name) + " row " + it.key() + ": " + r.error);
    }
    (*rows)[it.key()] = std::move(row);
  }
  return Status::Ok();
}

}  // namespace

Status OvsdbModel::ApplyUpdates(std::string_view text) {
  json u = json::parse(text.begin(), text.end(), nullptr, false);
  if (u.is_discarded()) return InvalidArgumentError("table updates: not JSON");
  if (!u.is_object()) return InvalidArgumentError("table updates: not an object");
  OvsdbModel next = *this;
  for (auto it = u.begin(); it != u.end(); ++it) {
    Status st;
    if (it.key() == "Bridge") {
      st = ApplyTable<BridgeRow>(it.value(), "Bridge", FillBridge, &next.bridges_);
    } else if (it.key() == "Port") {
      st = ApplyTable<PortRow>(it.value(), "Port", FillPort, &next.ports_);
    } else if (it.key() == "Interface") {
      st = ApplyTable<InterfaceRow>(it.value(), "Interface", FillInterface, &next.interfaces_);
    } else if (it.key() == "sFlow") {
      st = ApplyTable<SflowRow>(it.value(), "sFlow", FillSflow, &next.sflows_);
    }  // other tables: not monitored by xflowd, ignored
    if (!st.ok()) return st;
  }
  *this = std::move(next);
  return Status::Ok();
}

void OvsdbModel::Clear() {
  bridges_.clear();
  ports_.clear();
  interfaces_.clear();
  sflows_.clear();
}

const BridgeRow* OvsdbModel::FindBridge(std::string_view name) const {
  for (const auto& kv : bridges_) {
    if (kv.second.name == name) return &kv.second;
  }
  return nullptr;
}

const SflowRow* OvsdbModel::FindSflow(const std::string& uuid) const {
  auto it = sflows_.find(uuid);
  return it == sflows_.end() ? nullptr : &it->second;
}

const BridgeRow* OvsdbModel::BridgeOfInterface(const std::string& interface_uuid) const {
  for (const auto& b : bridges_) {
    for (const std::string& p : b.second.ports) {
      auto port = ports_.find(p);
      if (port == ports_.end()) continue;
      for (const std::string& i : port->second.interfaces) {
        if (i == interface_uuid) return &b.second;
      }
    }
  }
  return nullptr;
}

Result<OvsdbMessage> ParseMessage(std::string_view text) {
  json m = json::parse(text.begin(), text.end(), nullptr, false);
  if (m.is_discarded()) return InvalidArgumentError("OVSDB message: not JSON");
  if (!m.is_object()) return InvalidArgumentError("OVSDB message: not an object");
  OvsdbMessage out;
  auto method = m.find("method");
  auto id = m.find("id");
  if (method != m.end()) {
    if (!method->is_string()) return InvalidArgumentError("OVSDB message: method not a string");
    out.method = method->get<std::string>();
    auto params = m.find("params");
    if (params == m.end() || !params->is_array()) {
      return InvalidArgumentError("OVSDB " + out.method + ": params missing or not an array");
    }
    out.params_json = params->dump();
    const bool notification = id == m.end() || id->is_null();
    out.kind = notification ? OvsdbMessage::Kind::kNotification : OvsdbMessage::Kind::kRequest;
    if (!notification) out.request_id_json = id->dump();
    if (out.method == "update") {
      if (params->size() != 2) {
        return InvalidArgumentError("OVSDB update: " + std::to_string(params->size()) +
                                    " params, not 2");
      }
      out.update_json = (*params)[1].dump();
    }
    return out;
  }
  if (id == m.end()) return InvalidArgumentError("OVSDB message: neither method nor id");
  out.kind = OvsdbMessage::Kind::kReply;
  if (id->is_number_integer()) out.id = id->get<int64_t>();
  auto error = m.find("error");
  if (error != m.end() && !error->is_null()) {
    out.error = error->is_string() ? error->get<std::string>() : error->dump();
  }
  auto result = m.find("result");
  if (result != m.end()) out.result_json = result->dump();
  return out;
}

std::string MonitorRequest(int64_t id, const std::string& monitor_id) {
  json columns = {
      {"Bridge", {{"columns", {"name", "datapath_type", "ports", "sflow"}}}},
      {"Port", {{"columns", {"name", "interfaces"}}}},
      {"Interface",
       {{"columns",
         {"name", "type", "ofport", "ifindex", "admin_state", "link_state", "link_speed",
          "mac_in_use", "mtu", "statistics", "external_ids"}}}},
      {"sFlow",
       {{"columns", {"agent", "targets", "sampling", "polling", "header", "external_ids"}}}},
  };
  json req = {{"method", "monitor"}, {"params", {"Open_vSwitch", monitor_id, columns}}, {"id", id}};
  return req.dump();
}

std::string EchoReply(const OvsdbMessage& echo) {
  json params = json::parse(echo.params_json, nullptr, false);
  json id = json::parse(echo.request_id_json, nullptr, false);
  if (params.is_discarded()) params = json::array();
  if (id.is_discarded()) id = nullptr;
  json reply = {{"result", params}, {"error", nullptr}, {"id", id}};
  return reply.dump();
}

std::string EchoRequest(int64_t id) {
  json req = {{"method", "echo"}, {"params", json::array()}, {"id", id}};
  return req.dump();
}

namespace {

json StringMap(const std::map<std::string, std::string>& m) {
  json pairs = json::array();
  for (const auto& kv : m) pairs.push_back({kv.first, kv.second});
  return {"map", pairs};
}

json SflowColumns(const SflowSettings& s) {
  json targets = json::array();
  for (const std::string& t : s.targets) targets.push_back(t);
  json row = {{"targets", {"set", targets}},
              {"sampling", s.sampling},
              {"polling", s.polling},
              {"header", s.header},
              {"external_ids", StringMap(s.external_ids)}};
  row["agent"] = s.agent.empty() ? json({"set", json::array()}) : json(s.agent);
  return row;
}

json UuidIs(const std::string& uuid) {
  return json::array({json::array({"_uuid", "==", json::array({"uuid", uuid})})});
}

}  // namespace

std::string SflowTransaction(int64_t id, const std::vector<SflowWrite>& writes) {
  json params = json::array({"Open_vSwitch"});
  int n = 0;
  for (const SflowWrite& w : writes) {
    if (w.existing_sflow_uuid.empty()) {
      const std::string name = "xflowd_sflow_" + std::to_string(n++);
      params.push_back({{"op", "insert"},
                        {"table", "sFlow"},
                        {"row", SflowColumns(w.settings)},
                        {"uuid-name", name}});
      params.push_back({{"op", "update"},
                        {"table", "Bridge"},
                        {"where", UuidIs(w.bridge_uuid)},
                        {"row", {{"sflow", {"named-uuid", name}}}}});
    } else {
      params.push_back({{"op", "update"},
                        {"table", "sFlow"},
                        {"where", UuidIs(w.existing_sflow_uuid)},
                        {"row", SflowColumns(w.settings)}});
    }
  }
  json req = {{"method", "transact"}, {"params", params}, {"id", id}};
  return req.dump();
}

std::string SflowDetachTransaction(int64_t id, const std::vector<SflowDetach>& detaches) {
  json params = json::array({"Open_vSwitch"});
  for (const SflowDetach& d : detaches) {
    json where = UuidIs(d.bridge_uuid);
    where.push_back({"sflow", "==", {"uuid", d.sflow_uuid}});
    params.push_back({{"op", "update"},
                      {"table", "Bridge"},
                      {"where", where},
                      {"row", {{"sflow", {"set", json::array()}}}}});
  }
  json req = {{"method", "transact"}, {"params", params}, {"id", id}};
  return req.dump();
}

std::string TransactError(std::string_view result_json) {
  json r = json::parse(result_json.begin(), result_json.end(), nullptr, false);
  if (r.is_discarded() || !r.is_array()) return "transact: the result is not an array";
  for (size_t i = 0; i < r.size(); ++i) {
    const json& op = r[i];
    if (!op.is_object()) continue;
    auto e = op.find("error");
    if (e == op.end() || e->is_null()) continue;
    std::string msg = e->is_string() ? e->get<std::string>() : e->dump();
    auto d = op.find("details");
    if (d != op.end() && d->is_string()) msg += ": " + d->get<std::string>();
    return "operation " + std::to_string(i + 1) + ": " + msg;
  }
  return "";
}

std::string InsertedUuid(std::string_view result_json, size_t index) {
  json r = json::parse(result_json.begin(), result_json.end(), nullptr, false);
  if (r.is_discarded() || !r.is_array() || index >= r.size() || !r[index].is_object()) return "";
  auto u = r[index].find("uuid");
  if (u == r[index].end()) return "";
  const json& v = *u;
  if (v.is_array() && v.size() == 2 && v[0] == "uuid" && v[1].is_string()) {
    return v[1].get<std::string>();
  }
  return "";
}

std::string SflowSelect(int64_t id, const std::string& sflow_uuid) {
  json params = json::array({"Open_vSwitch"});
  params.push_back({{"op", "select"},
                    {"table", "sFlow"},
                    {"where", UuidIs(sflow_uuid)},
                    {"columns", {"sampling"}}});
  json req = {{"method", "transact"}, {"params", params}, {"id", id}};
  return req.dump();
}

Result<int64_t> SelectedSampling(std::string_view result_json) {
  json r = json::parse(result_json.begin(), result_json.end(), nullptr, false);
  if (r.is_discarded() || !r.is_array() || r.empty() || !r[0].is_object()) {
    return InvalidArgumentError("select sFlow: the reply is not [{rows: ...}]");
  }
  auto rows = r[0].find("rows");
  if (rows == r[0].end() || !rows->is_array() || rows->empty() || !(*rows)[0].is_object()) {
    return base::NotFoundError("select sFlow: the row is gone");
  }
  Reader rd;
  auto col = (*rows)[0].find("sampling");
  if (col == (*rows)[0].end()) return InvalidArgumentError("select sFlow: no sampling column");
  std::optional<int64_t> v = rd.Integer(*col, "sampling");
  if (!rd.error.empty()) return InvalidArgumentError("select sFlow: " + rd.error);
  if (!v) return base::NotFoundError("select sFlow: sampling is not set");
  return *v;
}

}  // namespace xflowd::hal::ovs
