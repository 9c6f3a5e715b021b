// The Net-SNMP side of the sub-agent: the only file that includes Net-SNMP. It converts OIDs
// and values and maps the request modes onto SflowMib; the MIB logic is in sflow_mib.cc.
#include "agent/snmp/agentx_subagent.h"

// net-snmp-config.h must come first.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/library/large_fd_set.h>
// clang-format on
#include <sys/epoll.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "agent/snmp/sflow_mib.h"

#ifndef XFLOWD_VERSION
#define XFLOWD_VERSION "unknown"
#endif

namespace xflowd::agent::snmp {

using hal::base::LogLevel;
using hal::base::Status;

namespace {

constexpr char kAppName[] = "xflowd";
// How often the loop runs Net-SNMP's alarms (AgentX pings, reconnects) and the receivers'
// timeouts. Requests do not wait for it: they wake the loop through the session's fd.
constexpr auto kTimerPeriod = std::chrono::milliseconds(100);

int ToNetsnmpError(Error e) {
  switch (e) {
    case Error::kNoError:
      return SNMP_ERR_NOERROR;
    case Error::kGenErr:
      return SNMP_ERR_GENERR;
    case Error::kWrongType:
      return SNMP_ERR_WRONGTYPE;
    case Error::kWrongLength:
      return SNMP_ERR_WRONGLENGTH;
    case Error::kWrongValue:
      return SNMP_ERR_WRONGVALUE;
    case Error::kNoCreation:
      return SNMP_ERR_NOCREATION;
    case Error::kInconsistentValue:
      return SNMP_ERR_INCONSISTENTVALUE;
    case Error::kNotWritable:
      return SNMP_ERR_NOTWRITABLE;
  }
  return SNMP_ERR_GENERR;
}

Oid ToOid(const oid* name, size_t len) {
  Oid out;
  out.reserve(len);
  for (size_t i = 0; i < len; ++i) {
    // Sub-identifiers are 32-bit (RFC 2578); a larger one cannot name anything of ours.
    out.push_back(name[i] > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(name[i]));
  }
  return out;
}

Value ToValue(const netsnmp_variable_list* vb) {
  switch (vb->type) {
    case ASN_INTEGER:
      return Value::Int(*vb->val.integer);
    case ASN_OCTET_STR:
      return Value::Str(std::string(reinterpret_cast<const char*>(vb->val.string), vb->val_len));
    default:
      return Value();
  }
}

void SetValue(netsnmp_variable_list* vb, const Value& v) {
  if (v.type == Type::kInteger) {
    const long i = static_cast<long>(v.integer);  // NOLINT: Net-SNMP's integer is long
    snmp_set_var_typed_value(vb, ASN_INTEGER, &i, sizeof(i));
  } else {
    snmp_set_var_typed_value(vb, ASN_OCTET_STR, v.octets.data(), v.octets.size());
  }
}

class NetsnmpSubagent;
NetsnmpSubagent* g_subagent = nullptr;  // Net-SNMP's callbacks carry no context of ours

class NetsnmpSubagent final : public AgentxSubagent {
 public:
  NetsnmpSubagent(const config::SnmpConfig& config, daemon::Daemon& daemon,
                  hal::base::Logger& logger)
      : config_(config),
        daemon_(daemon),
        logger_(logger),
        mib_(daemon, SflowMibOptions{config.receivers, XFLOWD_VERSION}, logger),
        alive_(std::make_shared<bool>(true)) {}

  ~NetsnmpSubagent() override {
    *alive_ = false;
    daemon_.set_config_overlay({});
    for (int fd : fds_) daemon_.loop().RemoveFd(fd);
    snmp_shutdown(kAppName);  // shuts the agent down too
    g_subagent = nullptr;
  }

  Status Start() {
    g_subagent = this;
    // Net-SNMP's messages go to our log.
    snmp_disable_log();
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
    // No client argument: snmp_shutdown frees the ones it holds.
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, &OnLog, nullptr);
    // A sub-agent that reads no snmp.conf, loads no MIB files and keeps no persistent state.
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    // OIDs are numeric here: no MIB file is needed, and where none are installed (Debian's
    // snmp-mibs-downloader is non-free) loading them only logs errors. Net-SNMP reads the
    // list from the environment only.
    setenv("MIBS", "", 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
    netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
                          config_.agentx_socket.c_str());
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                       static_cast<int>(config_.ping_interval_s));
    if (init_agent(kAppName) != 0) {
      return hal::base::InvalidArgumentError("snmp: Net-SNMP's agent library did not start");
    }
    internal_fds_ = ReadFds().size();  // its own callback sessions, before any AgentX socket
    std::vector<oid> root(kSflowAgentOid.begin(), kSflowAgentOid.end());
    netsnmp_handler_registration* reg = netsnmp_create_handler_registration(
        "sFlowAgent", &OnRequest, root.data(), root.size(), HANDLER_CAN_RWRITE);
    if (reg == nullptr || netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
      return hal::base::InvalidArgumentError("snmp: registering sFlowAgent failed");
    }
    // init_agent put Net-SNMP's default (15 s) back; init_snmp connects (or arms the retry)
    // with what is set now.
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                       static_cast<int>(config_.ping_interval_s));
    init_snmp(kAppName);

    daemon_.set_config_overlay([this](config::Config* c) { mib_.OverlayOnFile(c); });
    std::shared_ptr<bool> alive = alive_;
    XFLOWD_RETURN_IF_ERROR(daemon_.loop().AddTimer(kTimerPeriod, [this, alive] {
      if (*alive) OnTimer();
    }));
    SyncFds();
    logger_.Log(LogLevel::kInfo,
                "snmp: sFlow MIB sub-agent on AgentX %s (ping every %u s, %u receivers for "
                "managers)",
                config_.agentx_socket.c_str(), config_.ping_interval_s, config_.receivers);
    return Status::Ok();
  }

  std::string Summary() const override { return mib_.Summary(); }

  std::vector<std::pair<std::string, uint64_t>> Counters() const override {
    const SflowMibStats& s = mib_.stats();
    return {{"agentx_connected", fds_.size() > internal_fds_ ? 1u : 0u},
            {"agentx_connects", connects_},
            {"receivers_claimed", mib_.claimed()},
            {"ports_set", mib_.ports_set()},
            {"sets", s.sets},
            {"sets_refused", s.sets_refused},
            {"apply_errors", s.apply_errors},
            {"claims", s.claims},
            {"expiries", s.expiries},
            {"overrides_dropped", s.overrides_dropped}};
  }

 private:
  static int OnLog(int, int, void* server_arg, void*) {
    NetsnmpSubagent* self = g_subagent;
    const auto* m = static_cast<const snmp_log_message*>(server_arg);
    if (self == nullptr || m == nullptr || m->msg == nullptr) return 0;
    std::string text = m->msg;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.empty()) return 0;
    const LogLevel level = m->priority <= LOG_ERR       ? LogLevel::kError
                           : m->priority <= LOG_WARNING ? LogLevel::kWarning
                           : m->priority <= LOG_INFO    ? LogLevel::kInfo
                                                        : LogLevel::kDebug;
    if (level >= LogLevel::kWarning) {
      // "Failed to connect to the agentx master agent" comes every ping interval while snmpd
      // is away.
      self->warning_log_.Log(self->daemon_.clock().Now(), level, "snmp: %s", text.c_str());
    } else {
      self->logger_.Log(level, "snmp: %s", text.c_str());
    }
    if (text.find("subagent connected") != std::string::npos) ++self->connects_;
    return 0;
  }

  static int OnRequest(netsnmp_mib_handler*, netsnmp_handler_registration*,
                       netsnmp_agent_request_info* reqinfo, netsnmp_request_info* requests) {
    if (g_subagent == nullptr) return SNMP_ERR_GENERR;
    return g_subagent->Handle(reqinfo, requests);
  }

  int Handle(netsnmp_agent_request_info* reqinfo, netsnmp_request_info* requests) {
    switch (reqinfo->mode) {
      case MODE_GET:
        for (netsnmp_request_info* r = requests; r != nullptr; r = r->next) {
          auto v = mib_.Get(ToOid(r->requestvb->name, r->requestvb->name_length));
          if (v) {
            SetValue(r->requestvb, *v);
          } else {
            netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
          }
        }
        return SNMP_ERR_NOERROR;
      case MODE_GETNEXT:
        for (netsnmp_request_info* r = requests; r != nullptr; r = r->next) {
          auto next = mib_.GetNext(ToOid(r->requestvb->name, r->requestvb->name_length));
          if (!next) continue;  // past our last object: the master asks the next subtree
          std::vector<oid> name(next->first.begin(), next->first.end());
          snmp_set_var_objid(r->requestvb, name.data(), name.size());
          SetValue(r->requestvb, next->second);
        }
        return SNMP_ERR_NOERROR;
      case MODE_SET_RESERVE1: {
        std::vector<netsnmp_request_info*> reqs;
        const std::vector<SetVar> vars = Vars(requests, &reqs);
        size_t bad = 0;
        const Error e = mib_.Check(vars, &bad);
        if (e != Error::kNoError) {
          logger_.Log(LogLevel::kInfo, "snmp: set refused: %s on variable %zu of %zu", ErrorName(e),
                      bad + 1, vars.size());
          netsnmp_set_request_error(reqinfo, reqs[bad], ToNetsnmpError(e));
        }
        return SNMP_ERR_NOERROR;
      }
      case MODE_SET_ACTION: {
        // AgentX CommitSet: the last phase whose error reaches the manager.
        std::vector<netsnmp_request_info*> reqs;
        const std::vector<SetVar> vars = Vars(requests, &reqs);
        const Error e = mib_.Apply(vars);
        if (e != Error::kNoError) netsnmp_set_request_error(reqinfo, reqs[0], ToNetsnmpError(e));
        return SNMP_ERR_NOERROR;
      }
      case MODE_SET_UNDO:
        // Another sub-tree of the same request failed after ours was applied.
        mib_.Undo();
        return SNMP_ERR_NOERROR;
      default:  // RESERVE2, COMMIT, FREE: nothing held between the phases
        return SNMP_ERR_NOERROR;
    }
  }

  static std::vector<SetVar> Vars(netsnmp_request_info* requests,
                                  std::vector<netsnmp_request_info*>* reqs) {
    std::vector<SetVar> vars;
    for (netsnmp_request_info* r = requests; r != nullptr; r = r->next) {
      vars.push_back({ToOid(r->requestvb->name, r->requestvb->name_length), ToValue(r->requestvb)});
      reqs->push_back(r);
    }
    return vars;
  }

  void OnTimer() {
    snmp_timeout();
    run_alarms();
    netsnmp_check_outstanding_agent_requests();
    mib_.Tick(daemon_.clock().Now());
    SyncFds();
  }

  void OnReadable(int fd) {
    netsnmp_large_fd_set set;
    netsnmp_large_fd_set_init(&set, fd + 1);
    NETSNMP_LARGE_FD_SET(fd, &set);
    snmp_read2(&set);
    netsnmp_large_fd_set_cleanup(&set);
    netsnmp_check_outstanding_agent_requests();
    SyncFds();
  }

  // The fds Net-SNMP reads now.
  static std::set<int> ReadFds() {
    int numfds = 0;
    int block = 1;
    struct timeval tv = {};
    netsnmp_large_fd_set set;
    netsnmp_large_fd_set_init(&set, FD_SETSIZE);
    snmp_select_info2(&numfds, &set, &tv, &block);
    std::set<int> fds;
    for (int fd = 0; fd < numfds; ++fd) {
      if (NETSNMP_LARGE_FD_ISSET(fd, &set)) fds.insert(fd);
    }
    netsnmp_large_fd_set_cleanup(&set);
    return fds;
  }

  // Watches exactly the fds Net-SNMP reads now (a reconnect changes them).
  void SyncFds() {
    const std::set<int> now = ReadFds();
    for (auto it = fds_.begin(); it != fds_.end();) {
      if (now.count(*it) == 0) {
        daemon_.loop().RemoveFd(*it);
        it = fds_.erase(it);
      } else {
        ++it;
      }
    }
    for (int fd : now) {
      if (fds_.count(fd) > 0) {
        // The same number may be a new socket (closed and reopened between two syncs):
        // epoll dropped the old one, so watch it again.
        if (daemon_.loop().ModifyFd(fd, EPOLLIN).ok()) continue;
        daemon_.loop().RemoveFd(fd);
        fds_.erase(fd);
      }
      Status st = daemon_.loop().AddFd(fd, EPOLLIN, [this, fd](uint32_t) { OnReadable(fd); });
      if (!st.ok()) {
        logger_.Log(LogLevel::kWarning, "snmp: watching fd %d: %s", fd, st.message().c_str());
        continue;
      }
      fds_.insert(fd);
    }
  }

  config::SnmpConfig config_;
  daemon::Daemon& daemon_;
  hal::base::Logger& logger_;
  SflowMib mib_;
  std::set<int> fds_;
  size_t internal_fds_ = 0;  // Net-SNMP's own; more means the AgentX socket is open
  uint64_t connects_ = 0;
  hal::base::RateLimitedLog warning_log_{logger_, std::chrono::seconds(60), 3};
  std::shared_ptr<bool> alive_;  // the loop's timer outlives us
};

}  // namespace

bool HaveSnmp() { return true; }

hal::base::Result<std::unique_ptr<AgentxSubagent>> StartAgentxSubagent(
    const config::SnmpConfig& config, daemon::Daemon& daemon, hal::base::Logger& logger) {
  if (g_subagent != nullptr) {
    return hal::base::InvalidArgumentError("snmp: a sub-agent is running already");
  }
  auto s = std::make_unique<NetsnmpSubagent>(config, daemon, logger);
  XFLOWD_RETURN_IF_ERROR(s->Start());
  return std::unique_ptr<AgentxSubagent>(std::move(s));
}

}  // namespace xflowd::agent::snmp
