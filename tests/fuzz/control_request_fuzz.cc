// libFuzzer target for the control protocol (docs/control.md): any bytes as a request line.
// The parser must answer every line with a request or an error (never throw, never crash), a
// request must survive a round trip, and every reply must be one line of valid JSON whatever
// bytes it echoes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/control/protocol.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// One line, ending in '\n', that parses back as JSON.
void CheckLine(const std::string& line) {
  Check(!line.empty() && line.back() == '\n');
  Check(line.find('\n') == line.size() - 1);
  Check(!nlohmann::json::parse(line, nullptr, false).is_discarded());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xflowd::agent::control;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = ParseRequest(line);
  if (r.ok()) {
    Check(!r->command.empty());
    Check(r->args.is_object());
    const std::string again = EncodeRequest(r->command, r->args);
    CheckLine(again);
    auto back = ParseRequest(std::string_view(again).substr(0, again.size() - 1));
    Check(back.ok());
    Check(back->command == r->command && back->args == r->args);
    CheckLine(EncodeOk(r->args));
    (void)UintArg(r->args, "n", 10, 1, 1000);
  } else {
    Check(!r.status().message().empty());
    CheckLine(EncodeError(r.status().message()));
  }
  // Replies echo what clients sent (an unknown command's name): any bytes must encode.
  CheckLine(EncodeError(std::string(line)));
  return 0;
}
