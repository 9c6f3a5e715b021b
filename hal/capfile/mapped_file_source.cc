#include "hal/capfile/mapped_file_source.h"

#include <utility>

namespace xflowd::hal::capfile {

base::Result<std::unique_ptr<MappedFileSource>> MappedFileSource::Wrap(
    base::Result<std::unique_ptr<CaptureMap>> map, const MappedFileOptions& options) {
  if (!map.ok()) return map.status();
  LinkType link = LinkType::kEthernet;
  const uint32_t first = (*map)->link_type();
  if (!LinkTypeFromPcap(first, &link)) {
    return base::InvalidArgumentError((*map)->name() + ": link type " + std::to_string(first) +
                                      " is not supported; supported are " +
                                      kSupportedPcapLinkTypes);
  }
  return std::unique_ptr<MappedFileSource>(new MappedFileSource(std::move(map.value()), options));
}

base::Result<std::unique_ptr<MappedFileSource>> MappedFileSource::Create(
    const std::string& path, const MappedFileOptions& options) {
  return Wrap(CaptureMap::Open(path), options);
}

base::Result<std::unique_ptr<MappedFileSource>> MappedFileSource::FromBytes(
    base::ByteView bytes, const std::string& name, const MappedFileOptions& options) {
  return Wrap(CaptureMap::FromBytes(bytes, name), options);
}

size_t MappedFileSource::Drain(PacketSampleSink& sink, size_t budget) {
  size_t n = 0;
  while (n < budget && !done_) {
    CaptureRecord rec;
    auto more = map_->Next(&rec);
    if (!more.ok()) {
      done_ = true;
      read_error_ = more.status().message();
      ++stats_.parse_errors;
      break;
    }
    if (!*more) {
      done_ = true;
      if (map_->truncated()) {
        read_error_ = map_->name() + ": the file ends in the middle of a record";
        ++stats_.parse_errors;
      }
      break;
    }
    if (rec.link_type != raw_link_) {
      // A later pcapng interface with a link type we cannot parse: stop there, as at the start.
      if (!LinkTypeFromPcap(rec.link_type, &link_)) {
        done_ = true;
        read_error_ = map_->name() + ": interface " + std::to_string(rec.interface) +
                      " has link type " + std::to_string(rec.link_type) +
                      ", which is not supported; supported are " + kSupportedPcapLinkTypes;
        ++stats_.parse_errors;
        break;
      }
      raw_link_ = rec.link_type;
    }
    ++packets_read_;
    if (!sampler_.Take()) continue;
    PacketSample s;
    s.input_ifindex = options_.ifindex + rec.interface;
    s.link_type = link_;
    s.frame_length = rec.original_length;
    s.sampling_rate = sampler_.rate();
    s.timestamp = base::MonoTime::FromNs(rec.time_ns);
    s.header = rec.data;
    sink.OnSample(s);
    ++stats_.samples;
    ++n;
  }
  return n;
}

}  // namespace xflowd::hal::capfile
