#include "exporter/transport.h"

namespace xflowd::exporter {

const char* TransportStateName(TransportState state) {
  switch (state) {
    case TransportState::kUp:
      return "up";
    case TransportState::kConnecting:
      return "connecting";
    case TransportState::kDown:
      return "down";
  }
  return "?";
}

}  // namespace xflowd::exporter
