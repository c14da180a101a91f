// The io_uring of one gearbox-load loop (UringLoop): an io::Ring set up the way the tool wants
// it, with 1024 provided receive buffers of 32 KiB, so that a connection holds a buffer only
// while its bytes are dispatched. The same design as the server's (src/server/uring.h): the
// loop queues its receives and sends during a turn and submits them together with the wait, so
// a busy turn costs one io_uring_enter. On these machines a system call costs microseconds; a
// tool that pays one per read and one per send measures itself rather than the server.
// Owned by one UringLoop; used by one thread at a time (the thread running that loop).
#pragma once

#include <memory>
#include <string>

#include "io/ring.h"

namespace gearbox::load {

// `one_thread`: every call on this ring, from creation to destruction, comes from the creating
// thread. Such a ring is set up with DEFER_TASKRUN (completions are posted only while the
// thread waits in io_uring_enter), which needs a single issuer. nullptr, with the reason, when
// the kernel refuses what the loop needs (including multishot receive into provided buffers,
// which is probed here: older kernels refuse it only when it is used).
std::unique_ptr<io::Ring> CreateRing(bool one_thread, std::string* why_not);

}  // namespace gearbox::load
