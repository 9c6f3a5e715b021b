#include "agent/daemon/capture_file_source.h"

#include <utility>

namespace xflowd::agent::daemon {

hal::base::Result<std::unique_ptr<CaptureFileSource>> CaptureFileSource::Create(
    const std::string& path, uint32_t ifindex) {
  auto reader = tools::xflowdump::PcapReader::Open(path);
  if (!reader.ok()) return reader.status();
  hal::LinkType link = hal::LinkType::kEthernet;
  if (!hal::LinkTypeFromPcap((*reader)->link_type(), &link)) {
    return hal::base::InvalidArgumentError(
        path + ": link type " + std::to_string((*reader)->link_type()) +
        " is not supported; supported are " + hal::kSupportedPcapLinkTypes);
  }
  return std::unique_ptr<CaptureFileSource>(
      new CaptureFileSource(std::move(reader.value()), ifindex, link));
}

size_t CaptureFileSource::Drain(hal::PacketSampleSink& sink, size_t budget) {
  size_t n = 0;
  while (n < budget && !done_) {
    tools::xflowdump::PcapRecord rec;
    auto more = reader_->Next(&rec);
    if (!more.ok()) {
      done_ = true;
      read_error_ = more.status().message();
      ++stats_.parse_errors;
      break;
    }
    if (!*more) {
      done_ = true;
      if (reader_->truncated()) {
        read_error_ = "the file ends in the middle of a record";
        ++stats_.parse_errors;
      }
      break;
    }
    hal::PacketSample s;
    s.input_ifindex = ifindex_;
    s.link_type = link_type_;
    s.frame_length = rec.original_length;
    s.timestamp = hal::base::MonoTime::FromNs(rec.time.ns());
    s.header = rec.data;
    sink.OnSample(s);
    ++stats_.samples;
    ++n;
  }
  return n;
}

}  // namespace xflowd::agent::daemon
