#include "server/uring.h"

namespace gearbox::server {

std::unique_ptr<io::Ring> CreateUring(std::string* why_not) {
  // Preferred: completions are processed only when this loop's thread waits in
  // io_uring_enter (DEFER_TASKRUN), so the other CPU's network stack never interrupts it or
  // contends on the ring; measured here at half the CPU per job of the default mode. That mode
  // needs a single submitting thread, which the ring learns when the loop enables it on its own
  // thread (R_DISABLED + Enable()). Older kernels get the plain mode.
  static constexpr io::Ring::Setup kSetups[] = {
      {IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
           IORING_SETUP_R_DISABLED,
       "submit-all, defer-taskrun"},
      {IORING_SETUP_SUBMIT_ALL, "submit-all"},
      {0, "plain"},
  };
  io::Ring::Options o;
  o.setups = kSetups;
  o.entries = 4096;
  o.buffer_group = 7;
  o.buffers = 256;
  o.buffer_size = 16 * 1024;
  return io::Ring::Create(o, why_not);
}

}  // namespace gearbox::server
