// MultiPacketSource: several PacketSources (and other fds) behind one pollable fd, so the
// daemon's event loop, which watches one PacketSource, needs no change for a Linux host with
// one AF_PACKET socket per port, a PSAMPLE socket and NFLOG groups.
//
// fd() is an epoll fd (level-triggered) over the children's fds: it is readable when one of
// them is. Drain() asks epoll which children are ready (no wait) and drains them in turn
// until the budget is spent; a "watch" (a plain fd with a callback, e.g. the rtnetlink event
// socket) runs its callback instead. Children are found by key on every event, so a callback
// may add or remove children (a link went away) in the middle of a Drain.
//
// Threading: the event loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "hal/base/status.h"
#include "hal/packet_source.h"

namespace xflowd::agent::os_linux {

class MultiPacketSource final : public hal::PacketSource {
 public:
  using Key = uint64_t;
  static hal::base::Result<std::unique_ptr<MultiPacketSource>> Create();
  ~MultiPacketSource() override;
  MultiPacketSource(const MultiPacketSource&) = delete;
  MultiPacketSource& operator=(const MultiPacketSource&) = delete;

  int fd() const override { return epoll_fd_; }
  size_t Drain(hal::PacketSampleSink& sink, size_t budget) override;
  // Sums over the children, including those already removed.
  hal::PacketSourceStats stats() const override;

  // Takes ownership of `source` under `key` (replacing any child with that key).
  // `before_drain` (may be empty) runs before each Drain of this child, e.g. to bring the
  // sample pool up to date.
  hal::base::Status Add(Key key, std::unique_ptr<hal::PacketSource> source,
                        std::function<void()> before_drain = {});
  // An fd that is not a packet source: `on_ready` runs when it is readable. Not owned.
  hal::base::Status AddWatch(Key key, int fd, std::function<void()> on_ready);
  // Closes the child or forgets the watch; nothing if there is none.
  void Remove(Key key);
  hal::PacketSource* Find(Key key) const;
  size_t size() const { return children_.size(); }

 private:
  explicit MultiPacketSource(int epoll_fd) : epoll_fd_(epoll_fd) {}
  struct Child {
    std::unique_ptr<hal::PacketSource> source;  // null for a watch
    int fd = -1;
    std::function<void()> before_drain;
    std::function<void()> on_ready;
  };
  hal::base::Status Insert(Key key, Child child);

  int epoll_fd_;
  std::map<Key, Child> children_;
  hal::PacketSourceStats retired_;  // stats of removed children
};

}  // namespace xflowd::agent::os_linux
