// The io_uring of one server event loop (EventLoop's io_uring engine): an io::Ring set up the
// way the server wants it (completions processed only while the loop's thread waits, where the
// kernel allows that), with 256 provided receive buffers of 16 KiB, so idle connections hold no
// receive buffer. Owned by its EventLoop and used by the loop's thread; see io/ring.h.
#pragma once

#include <memory>
#include <string>

#include "io/ring.h"

namespace gearbox::server {

// nullptr, with the reason, when the kernel refuses io_uring (the loop then uses libevent).
std::unique_ptr<io::Ring> CreateUring(std::string* why_not);

}  // namespace gearbox::server
