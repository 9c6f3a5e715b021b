#include "hal/pcap/pcap_file_source.h"

#include <pcap/pcap.h>
#include <stdio_ext.h>

#include <cerrno>
#include <cstdio>

namespace xflowd::hal::pcap {

using base::Result;
using base::Status;

namespace {

// stdio buffer for the file: libpcap fread()s each record header and body separately.
constexpr size_t kFileBuffer = size_t{1} << 20;

}  // namespace

Result<std::unique_ptr<PcapFileSource>> PcapFileSource::Create(const std::string& path,
                                                               const PcapFileOptions& options) {
  // fopen ourselves so a missing or unreadable file gets its errno, not a libpcap string.
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (f == nullptr) {
    const int err = errno;
    if (err == ENOENT) return base::NotFoundError("capture file " + path + " does not exist");
    if (err == EACCES || err == EPERM) {
      return base::PermissionDeniedError("capture file " + path + " is not readable");
    }
    return base::ErrnoError("cannot open capture file " + path, err);
  }
  // glibc ignores the size unless it is given the buffer too.
  std::unique_ptr<char[]> buffer(new char[kFileBuffer]);
  std::setvbuf(f, buffer.get(), _IOFBF, kFileBuffer);
  // Only this source's thread reads the FILE: skip stdio's per-fread lock (a third of the
  // read time at 10 Mpps).
  __fsetlocking(f, FSETLOCKING_BYCALLER);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // Nanosecond precision: libpcap scales microsecond files up, so tv_usec holds ns always.
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) {
    std::fclose(f);  // libpcap closes the FILE only once it owns it (on success)
    return base::InvalidArgumentError(path + " is not a readable pcap or pcapng file: " + errbuf);
  }
  const int dlt = pcap_datalink(p);
  LinkType link = LinkType::kEthernet;
  if (dlt < 0 || !LinkTypeFromPcap(static_cast<uint32_t>(dlt), &link)) {
    const char* name = pcap_datalink_val_to_name(dlt);
    pcap_close(p);
    return base::InvalidArgumentError(
        path + ": link type " + std::to_string(dlt) + " (" + (name ? name : "unknown") +
        ") is not supported; supported are " + kSupportedPcapLinkTypes);
  }
  auto source = std::unique_ptr<PcapFileSource>(new PcapFileSource(p, path, options));
  source->link_type_ = link;
  source->file_buffer_ = std::move(buffer);  // outlives the FILE: pcap_close runs first
  return source;
}

PcapFileSource::PcapFileSource(pcap_t* handle, std::string path, const PcapFileOptions& options)
    : handle_(handle),
      path_(std::move(path)),
      options_(options),
      sampler_(options.sampling_rate, options.seed) {}

PcapFileSource::~PcapFileSource() { pcap_close(handle_); }

size_t PcapFileSource::Drain(PacketSampleSink& sink, size_t budget) {
  size_t delivered = 0;
  PacketSample s;
  s.input_ifindex = options_.ifindex;
  s.direction = Direction::kIngress;
  s.sampling_rate = sampler_.rate();
  s.link_type = link_type_;
  while (delivered < budget && !done_) {
    struct pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_, &h, &data);
    if (rc != 1) {
      done_ = true;
      if (rc == PCAP_ERROR) {  // a record header that cannot be right, or a cut record
        ++stats_.parse_errors;
        read_error_ = pcap_geterr(handle_);
      }  // else PCAP_ERROR_BREAK: the end of the file
      break;
    }
    const auto t = base::WallTime::FromNs(int64_t{h->ts.tv_sec} * 1000000000 + h->ts.tv_usec);
    if (packets_read_ == 0) first_time_ = t;
    last_time_ = t;
    ++packets_read_;
    if (!sampler_.Take()) continue;
    s.frame_length = h->len;
    s.timestamp = base::MonoTime::FromNs(t.ns());
    s.header = base::ByteView(data, h->caplen);
    sink.OnSample(s);
    ++delivered;
  }
  stats_.samples += delivered;
  return delivered;
}

}  // namespace xflowd::hal::pcap
