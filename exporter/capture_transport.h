// A Transport that keeps every datagram in memory: the test double for collectors.
#pragma once

#include <string>
#include <vector>

#include "exporter/transport.h"

namespace xflowd::exporter {

class CaptureTransport final : public Transport {
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
  const TransportStats& stats() const override { return stats_; }
  std::string Describe() const override { return "capture"; }

  const std::vector<std::vector<uint8_t>>& datagrams() const { return datagrams_; }
  void Clear() { datagrams_.clear(); }
  // Make every Send fail (to test error counting).
  void set_fail(bool fail) { fail_ = fail; }

 private:
  std::vector<std::vector<uint8_t>> datagrams_;
  TransportStats stats_;
  bool fail_ = false;
};

}  // namespace xflowd::exporter
