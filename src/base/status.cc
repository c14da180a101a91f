#include "base/status.h"

namespace gearbox {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

}  // namespace gearbox
