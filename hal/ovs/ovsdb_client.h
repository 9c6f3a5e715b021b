// OvsdbClient: a JSON-RPC (RFC 7047) connection to ovsdb-server over its unix socket, with the
// Open_vSwitch database's Bridge, Port, Interface and sFlow tables mirrored in an OvsdbModel
// by a "monitor" call.
//
// Non-blocking on the event loop: fd() is the socket (readable when the server sent
// something; -1 while disconnected), OnReadable() handles what came (updates, echo requests).
// A lost connection is retried by Tick() with backoff (kMinBackoff doubling up to
// kMaxBackoff); a new connection monitors again and its first reply replaces the whole model,
// so nothing from before the restart stays and nothing is duplicated. generation() grows at
// each such re-sync and changes() at every model change: the owner compares them after each
// OnReadable/Tick instead of being called back in the middle of one.
//
// Call() sends one request and waits (poll, up to the timeout) for its reply while handling
// what else arrives: for the control plane (start-up, writing the sFlow rows, exit).
//
// Threading: one thread (the event loop's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hal/base/clock.h"
#include "hal/base/log.h"
#include "hal/base/status.h"
#include "hal/ovs/ovsdb_wire.h"

namespace xflowd::hal::ovs {

constexpr char kDefaultDbSocket[] = "/var/run/openvswitch/db.sock";

struct OvsdbClientStats {
  uint64_t connects = 0;      // successful connections (the first included)
  uint64_t disconnects = 0;   // connections lost
  uint64_t updates = 0;       // update notifications applied
  uint64_t bad_messages = 0;  // messages that did not parse or apply (the connection is reset)
  uint64_t resyncs = 0;       // monitor replies applied (the first included)
};

class OvsdbClient {
 public:
  static constexpr base::Duration kMinBackoff = base::milliseconds(250);
  static constexpr base::Duration kMaxBackoff = base::seconds(8);

  // Connects and monitors; an error a user can act on if the socket cannot be reached.
  static base::Result<std::unique_ptr<OvsdbClient>> Create(const std::string& socket_path,
                                                           const base::Clock& clock,
                                                           base::Logger& logger,
                                                           int timeout_ms = 3000);
  ~OvsdbClient();
  OvsdbClient(const OvsdbClient&) = delete;
  OvsdbClient& operator=(const OvsdbClient&) = delete;

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0 && monitored_; }
  void OnReadable();
  // Reconnects when the backoff has passed (and monitors again).
  void Tick(base::MonoTime now);
  // Sends the request `make(id)` and returns the reply's result (JSON text), or its error.
  base::Result<std::string> Call(const std::function<std::string(int64_t id)>& make,
                                 int timeout_ms = 3000);

  const OvsdbModel& model() const { return model_; }
  uint64_t generation() const { return generation_; }
  uint64_t changes() const { return changes_; }
  const OvsdbClientStats& stats() const { return stats_; }
  const std::string& socket_path() const { return path_; }

 private:
  OvsdbClient(const std::string& path, const base::Clock& clock, base::Logger& logger)
      : path_(path), clock_(clock), logger_(logger) {}
  base::Status Connect(int timeout_ms);
  void Disconnect(const std::string& why);
  base::Status Send(const std::string& text, int timeout_ms);
  // Reads what is there (no wait); handles whole messages. False if the connection dropped.
  bool ReadSome();
  // Handles one message; a reply to `want_id` is stored in *reply.
  void Handle(const std::string& text, int64_t want_id, OvsdbMessage* reply, bool* got);

  std::string path_;
  const base::Clock& clock_;
  base::Logger& logger_;
  int fd_ = -1;
  bool monitored_ = false;
  int64_t next_id_ = 1;
  int64_t monitor_id_ = -1;  // the pending monitor request's id
  JsonStreamSplitter splitter_;
  OvsdbModel model_;
  uint64_t generation_ = 0;
  uint64_t changes_ = 0;
  base::Duration backoff_ = kMinBackoff;
  base::MonoTime retry_at_;
  OvsdbClientStats stats_;
};

}  // namespace xflowd::hal::ovs
