#include "ring.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gearbox::load {
namespace {

bool ProbeMultishotRecv(io::Ring& ring, std::string* why_not) {
  // Multishot receive needs Linux 6.0. Try it on a socket pair: one byte must arrive in a
  // provided buffer with the receive still armed.
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    *why_not = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  io_uring_sqe* sqe = ring.Sqe();
  io_uring_prep_recv_multishot(sqe, sv[0], nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = static_cast<uint16_t>(ring.buffer_group());
  io_uring_sqe_set_data64(sqe, 1);
  ring.Submit();
  io_uring_cqe cqe{};
  bool ok = ::send(sv[1], "x", 1, MSG_NOSIGNAL) == 1 && ring.WaitOne(1'000'000'000, &cqe);
  if (ok && (cqe.flags & IORING_CQE_F_BUFFER) != 0) {
    ring.ReturnBuffer(static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    ring.CommitBuffers();
  }
  ::close(sv[0]);
  ::close(sv[1]);
  // Closing the pair ends the receive; collect its last completion so none is left over.
  io_uring_cqe last{};
  if (ok && (cqe.flags & IORING_CQE_F_MORE) != 0) ring.WaitOne(1'000'000'000, &last);
  if (!ok || cqe.res != 1 || (cqe.flags & IORING_CQE_F_MORE) == 0) {
    *why_not = "multishot receive with provided buffers does not work here (needs Linux 6.0): " +
               (ok ? "result " + std::to_string(cqe.res) : std::string("no completion"));
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<io::Ring> CreateRing(bool one_thread, std::string* why_not) {
  // DEFER_TASKRUN (one-thread rings only): completion work runs only inside this thread's wait,
  // so the server's sends into this process never interrupt it or contend for the ring: the
  // server's own ring is set up the same way (src/server/uring.cc). COOP_TASKRUN otherwise:
  // completions are not pushed to the thread with an interrupt while it runs. Older kernels
  // refuse the flags; fall back step by step.
  static constexpr io::Ring::Setup kOneThread[] = {
      {IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
       "submit-all, defer-taskrun"},
      {IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
       "submit-all, coop-taskrun"},
      {IORING_SETUP_SUBMIT_ALL, "submit-all"},
      {0, "plain"},
  };
  io::Ring::Options o;
  o.setups = one_thread ? std::span<const io::Ring::Setup>(kOneThread)
                        : std::span<const io::Ring::Setup>(kOneThread).subspan(1);
  o.entries = 4096;
  o.buffer_group = 1;
  o.buffers = 1024;
  o.buffer_size = 32 * 1024;
  o.need_ext_arg = true;  // the loop's turn timeout is the wait's own timeout
  auto ring = io::Ring::Create(o, why_not);
  if (ring == nullptr || !ProbeMultishotRecv(*ring, why_not)) return nullptr;
  return ring;
}

}  // namespace gearbox::load
