#include "hal/nflog/nft_sampling_rule.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xflowd::hal::nflog {
namespace {

bool ValidDevice(const std::string& d) {
  if (d.empty() || d.size() > 15) return false;
  for (char c : d) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

std::string NftTableName(const NftRuleOptions& o) {
  return o.direction == Direction::kIngress ? "xflowd_" + o.device : "xflowd_egress_" + o.device;
}

base::Result<std::string> BuildNftRuleset(const NftRuleOptions& o) {
  if (!ValidDevice(o.device)) {
    return base::InvalidArgumentError("nft rule: bad device name '" + o.device + "'");
  }
  if (o.sampling_rate == 0) return base::InvalidArgumentError("nft rule: rate 0");
  const std::string table = NftTableName(o);
  const char* hook = o.direction == Direction::kIngress ? "ingress" : "egress";
  std::string s;
  s += "table netdev " + table + "\n";
  s += "delete table netdev " + table + "\n";
  s += "table netdev " + table + " {\n";
  s += std::string("  chain sample_") + hook + " {\n";
  s += std::string("    type filter hook ") + hook + " device \"" + o.device + "\" priority " +
       std::to_string(o.priority) + "; policy accept;\n";
  s += "    numgen random mod " + std::to_string(o.sampling_rate) + " == 0 log group " +
       std::to_string(o.group);
  if (o.snaplen) s += " snaplen " + std::to_string(o.snaplen);
  if (o.queue_threshold) s += " queue-threshold " + std::to_string(o.queue_threshold);
  s += "\n  }\n}\n";
  return s;
}

base::Status RunNft(const std::string& nft_path, const std::string& script) {
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return base::ErrnoError("pipe", errno);
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return base::ErrnoError("pipe", errno);
  }
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(in[0]), close(in[1]), close(err[0]), close(err[1]);
    return base::ErrnoError("fork", e);
  }
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(err[1], 1);
    dup2(err[1], 2);
    execlp(nft_path.c_str(), nft_path.c_str(), "-f", "-", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(err[1]);
  // A failed nft exits early; do not die of SIGPIPE writing to it.
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &old);
  WriteAll(in[1], script);
  close(in[1]);
  sigaction(SIGPIPE, &old, nullptr);
  std::string out;
  char b[512];
  for (;;) {
    ssize_t n = read(err[0], b, sizeof(b));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < 4096) out.append(b, static_cast<size_t>(n));
  }
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return base::Status::Ok();
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return base::UnavailableError("cannot run " + nft_path);
  }
  return base::InternalError(nft_path + " -f - failed: " + out);
}

base::Result<std::unique_ptr<NftSamplingRule>> NftSamplingRule::Install(
    const NftRuleOptions& options) {
  auto script = BuildNftRuleset(options);
  if (!script.ok()) return script.status();
  XFLOWD_RETURN_IF_ERROR(RunNft(options.nft_path, *script));
  return std::unique_ptr<NftSamplingRule>(new NftSamplingRule(options));
}

base::Status NftSamplingRule::Remove() {
  if (!installed_) return base::Status::Ok();
  installed_ = false;
  return RunNft(options_.nft_path, "delete table netdev " + NftTableName(options_) + "\n");
}

NftSamplingRule::~NftSamplingRule() { (void)Remove(); }

}  // namespace xflowd::hal::nflog
