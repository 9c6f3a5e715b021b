#include "agent/linux/multi_packet_source.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace xflowd::agent::os_linux {

using hal::base::ErrnoError;
using hal::base::InvalidArgumentError;
using hal::base::Result;
using hal::base::Status;

namespace {
constexpr int kMaxEvents = 32;
}  // namespace

Result<std::unique_ptr<MultiPacketSource>> MultiPacketSource::Create() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return ErrnoError("epoll_create1", errno);
  return std::unique_ptr<MultiPacketSource>(new MultiPacketSource(fd));
}

MultiPacketSource::~MultiPacketSource() {
  children_.clear();  // sources close their fds (which leaves the epoll set)
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Status MultiPacketSource::Insert(Key key, Child child) {
  Remove(key);
  if (child.fd < 0) return InvalidArgumentError("packet source without a file descriptor");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = key;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, child.fd, &ev) != 0) {
    return ErrnoError("epoll_ctl(ADD)", errno);
  }
  children_.emplace(key, std::move(child));
  return Status::Ok();
}

Status MultiPacketSource::Add(Key key, std::unique_ptr<hal::PacketSource> source,
                              std::function<void()> before_drain) {
  if (!source) return InvalidArgumentError("no packet source");
  Child c;
  c.fd = source->fd();
  c.source = std::move(source);
  c.before_drain = std::move(before_drain);
  return Insert(key, std::move(c));
}

Status MultiPacketSource::AddWatch(Key key, int fd, std::function<void()> on_ready) {
  Child c;
  c.fd = fd;
  c.on_ready = std::move(on_ready);
  return Insert(key, std::move(c));
}

void MultiPacketSource::Remove(Key key) {
  auto it = children_.find(key);
  if (it == children_.end()) return;
  // Before the source closes its fd: a closed fd leaves the set by itself, but a watch's fd
  // (not ours) would stay.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  if (it->second.source) {
    const hal::PacketSourceStats s = it->second.source->stats();
    retired_.samples += s.samples;
    retired_.source_drops += s.source_drops;
    retired_.parse_errors += s.parse_errors;
  }
  children_.erase(it);
}

hal::PacketSource* MultiPacketSource::Find(Key key) const {
  auto it = children_.find(key);
  return it == children_.end() ? nullptr : it->second.source.get();
}

size_t MultiPacketSource::Drain(hal::PacketSampleSink& sink, size_t budget) {
  epoll_event events[kMaxEvents];
  const int n = epoll_wait(epoll_fd_, events, kMaxEvents, 0);
  size_t done = 0;
  for (int i = 0; i < n && done < budget; ++i) {
    const Key key = events[i].data.u64;
    auto it = children_.find(key);
    if (it == children_.end()) continue;  // removed by an earlier callback in this round
    if (!it->second.source) {
      // Copy: the callback may remove this very watch.
      std::function<void()> cb = it->second.on_ready;
      if (cb) cb();
      continue;
    }
    if (it->second.before_drain) it->second.before_drain();
    done += it->second.source->Drain(sink, budget - done);
  }
  return done;
}

hal::PacketSourceStats MultiPacketSource::stats() const {
  hal::PacketSourceStats total = retired_;
  for (const auto& [key, c] : children_) {
    (void)key;
    if (!c.source) continue;
    const hal::PacketSourceStats s = c.source->stats();
    total.samples += s.samples;
    total.source_drops += s.source_drops;
    total.parse_errors += s.parse_errors;
  }
  return total;
}

}  // namespace xflowd::agent::os_linux
