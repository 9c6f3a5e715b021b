// A Transport that accepts every datagram and only counts it: for tests and benchmarks that
// need an agent or a daemon to export but look at other things.
#pragma once

#include <string>

#include "exporter/transport.h"
#include "hal/base/byte_view.h"
#include "hal/base/time.h"

namespace xflowd::testing {

class NullTransport final : public exporter::Transport {
 public:
  bool Send(hal::base::ByteView d) override {
    ++stats_.datagrams_sent;
    stats_.bytes_sent += d.size();
    return true;
  }
  const exporter::TransportStats& stats() const override { return stats_; }
  std::string Describe() const override { return "null"; }
  void Poll(hal::base::MonoTime) override {}
  exporter::TransportStatus status() const override { return {}; }
  std::string DescribeStats() const override { return ""; }

 private:
  exporter::TransportStats stats_;
};

}  // namespace xflowd::testing
