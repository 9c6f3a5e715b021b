// Helpers for the privileged back-end tests (root + network namespaces): a namespace with a
// unique name that is always deleted, entering it on the current thread, and sending frames
// through an AF_PACKET socket. Shared by the afpacket, nflog, psample and rtnl tests.
#pragma once

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "hal/packet_source.h"
#include "tests/support/test_env.h"  // IsRoot, XFLOWD_SKIP_UNDER_EMULATION

namespace xflowd::testing {

// Keeps every sample with a copy of its header (the view dies with OnSample).
struct Collected {
  hal::PacketSample s;
  std::vector<uint8_t> header;
};

class Collector : public hal::PacketSampleSink {
 public:
  void OnSample(const hal::PacketSample& s) override {
    Collected c{s, std::vector<uint8_t>(s.header.begin(), s.header.end())};
    c.s.header = hal::base::ByteView();
    got.push_back(std::move(c));
  }
  std::vector<Collected> got;
};

// Drains until no new sample arrived for `quiet_ms` (an AF_PACKET ring hands over a partly
// filled block after its timeout; NFLOG batches for its own).
inline void DrainAll(hal::PacketSource& src, Collector& sink, int quiet_ms = 400) {
  for (int idle = 0; idle < quiet_ms;) {
    pollfd p{src.fd(), POLLIN, 0};
    int r = poll(&p, 1, 50);
    size_t n = src.Drain(sink, 1024);
    idle = (r == 0 && n == 0) ? idle + 50 : 0;
  }
}

// Runs a shell command quietly; returns its exit status.
inline int Sh(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
}

// Runs a command and returns its stdout.
inline std::string ShOutput(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

// "xf5_<pid>_<tag>", created on construction, deleted on destruction.
class TestNetns {
 public:
  explicit TestNetns(const std::string& tag)
      : name_("xf5_" + std::to_string(getpid()) + "_" + tag) {
    Sh("ip netns del " + name_);
    ok_ = Sh("ip netns add " + name_) == 0 && Ip("link set lo up") == 0;
  }
  ~TestNetns() { Sh("ip netns del " + name_); }
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  int Ip(const std::string& args) const { return Sh("ip -n " + name_ + " " + args); }
  std::string IpOutput(const std::string& args) const {
    return ShOutput("ip -n " + name_ + " " + args + " 2>/dev/null");
  }
  // A veth pair with fixed MACs, no IPv6 link-local (so no spontaneous traffic), both up.
  bool AddVeth(const std::string& a, const std::string& b, const std::string& mac_a,
               const std::string& mac_b) const {
    return Ip("link add " + a + " type veth peer name " + b) == 0 &&
           Ip("link set " + a + " address " + mac_a + " addrgenmode none up") == 0 &&
           Ip("link set " + b + " address " + mac_b + " addrgenmode none up") == 0;
  }

 private:
  std::string name_;
  bool ok_ = false;
};

// Moves the calling thread into a namespace until destruction (sockets opened meanwhile stay
// in it for their whole life).
class EnterNetns {
 public:
  explicit EnterNetns(const std::string& name) {
    self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = self_ >= 0 && fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) close(fd);
  }
  ~EnterNetns() {
    if (self_ >= 0) {
      if (ok_) (void)setns(self_, CLONE_NEWNET);
      close(self_);
    }
  }
  bool ok() const { return ok_; }

 private:
  int self_ = -1;
  bool ok_ = false;
};

// Sends frames out of one interface (in the current namespace) with sendmmsg.
class FrameSender {
 public:
  explicit FrameSender(const std::string& ifname) {
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: receives nothing
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    ok_ = fd_ >= 0 && sll.sll_ifindex != 0 &&
          bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) == 0;
  }
  ~FrameSender() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }
  // Sends `count` copies of `frame`; returns how many the socket accepted.
  size_t Send(const std::vector<uint8_t>& frame, size_t count) {
    constexpr size_t kBatch = 256;
    iovec iov{const_cast<uint8_t*>(frame.data()), frame.size()};
    std::vector<mmsghdr> msgs(kBatch);
    for (auto& m : msgs) {
      m = mmsghdr{};
      m.msg_hdr.msg_iov = &iov;
      m.msg_hdr.msg_iovlen = 1;
    }
    size_t sent = 0;
    while (sent < count) {
      size_t n = count - sent < kBatch ? count - sent : kBatch;
      int r = sendmmsg(fd_, msgs.data(), static_cast<unsigned>(n), 0);
      if (r < 0) {
        if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) continue;
        break;
      }
      sent += static_cast<size_t>(r);
    }
    return sent;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// An Ethernet + IPv4 + UDP frame: `ip_total` bytes of IP packet (>= 28), optional 802.1Q tag.
inline std::vector<uint8_t> MakeUdpFrame(const uint8_t dst[6], const uint8_t src[6],
                                         uint16_t ip_total, int vlan_tci = -1) {
  std::vector<uint8_t> f(dst, dst + 6);
  f.insert(f.end(), src, src + 6);
  if (vlan_tci >= 0) {
    f.insert(f.end(),
             {0x81, 0x00, static_cast<uint8_t>(vlan_tci >> 8), static_cast<uint8_t>(vlan_tci)});
  }
  f.insert(f.end(), {0x08, 0x00});
  uint8_t ip[28] = {0x45,
                    0,
                    static_cast<uint8_t>(ip_total >> 8),
                    static_cast<uint8_t>(ip_total),
                    0,
                    1,
                    0,
                    0,
                    64,
                    17,
                    0,
                    0,
                    10,
                    0,
                    0,
                    1,
                    10,
                    0,
                    0,
                    2,
                    0x30,
                    0x39,
                    0x00,
                    0x35,
                    0,
                    static_cast<uint8_t>(ip_total - 20),
                    0,
                    0};
  f.insert(f.end(), ip, ip + 28);
  for (size_t i = 28; i < ip_total; ++i) f.push_back(static_cast<uint8_t>(i));
  return f;
}

}  // namespace xflowd::testing
