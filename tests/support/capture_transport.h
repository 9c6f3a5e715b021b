// A Transport that keeps every datagram in memory: the test double for collectors. Test-only:
// no product code links it.
#pragma once

#include <string>
#include <vector>

#include "exporter/transport.h"

namespace xflowd::testing {

class CaptureTransport final : public exporter::Transport {
 public:
  bool Send(hal::base::ByteView d) override {
    if (fail_) {
      ++stats_.send_errors;
      return false;
    }
    datagrams_.emplace_back(d.begin(), d.end());
    ++stats_.datagrams_sent;
    stats_.bytes_sent += d.size();
    return true;
  }
  void Poll(hal::base::MonoTime) override {}
  exporter::TransportStatus status() const override { return status_; }
  const exporter::TransportStats& stats() const override { return stats_; }
  std::string Describe() const override { return "capture"; }
  std::string DescribeStats() const override {
    return "captured " + std::to_string(datagrams_.size());
  }

  const std::vector<std::vector<uint8_t>>& datagrams() const { return datagrams_; }
  void Clear() { datagrams_.clear(); }
  // Make every Send fail (to test error counting).
  void set_fail(bool fail) { fail_ = fail; }
  // What status() reports (a new stream, a state, as a stream transport would).
  void set_status(const exporter::TransportStatus& status) { status_ = status; }
  // Messages accepted and then lost downstream (ICMP refusal, lost connection).
  void AddLost(uint64_t n) { stats_.lost += n; }

 private:
  std::vector<std::vector<uint8_t>> datagrams_;
  exporter::TransportStats stats_;
  exporter::TransportStatus status_;
  bool fail_ = false;
};

}  // namespace xflowd::testing
