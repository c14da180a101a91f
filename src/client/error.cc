#include "gearbox/error.h"

namespace gearbox {

std::string_view ErrcName(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kConnectFailed:
      return "connect_failed";
    case Errc::kConnectionLost:
      return "connection_lost";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kServerError:
      return "server_error";
    case Errc::kJobFailed:
      return "job_failed";
    case Errc::kJobException:
      return "job_exception";
    case Errc::kProtocolError:
      return "protocol_error";
    case Errc::kStopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace gearbox
