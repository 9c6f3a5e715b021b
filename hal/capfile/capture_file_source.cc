#include "hal/capfile/capture_file_source.h"

#include <utility>

namespace xflowd::hal::capfile {

base::Result<std::unique_ptr<CaptureFileSource>> CaptureFileSource::Create(const std::string& path,
                                                                           uint32_t ifindex) {
  auto reader = PcapReader::Open(path);
  if (!reader.ok()) return reader.status();
  LinkType link = LinkType::kEthernet;
  if (!LinkTypeFromPcap((*reader)->link_type(), &link)) {
    return base::InvalidArgumentError(
        path + ": link type " + std::to_string((*reader)->link_type()) +
        " is not supported; supported are " + kSupportedPcapLinkTypes);
  }
  return std::unique_ptr<CaptureFileSource>(
      new CaptureFileSource(std::move(reader.value()), ifindex, link));
}

size_t CaptureFileSource::Drain(PacketSampleSink& sink, size_t budget) {
  size_t n = 0;
  while (n < budget && !done_) {
    PcapRecord rec;
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
    PacketSample s;
    s.input_ifindex = ifindex_;
    s.link_type = link_type_;
    s.frame_length = rec.original_length;
    s.timestamp = base::MonoTime::FromNs(rec.time.ns());
    s.header = rec.data;
    sink.OnSample(s);
    ++stats_.samples;
    ++n;
  }
  return n;
}

}  // namespace xflowd::hal::capfile
