#include "gearbox/admin.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "client/connection.h"

namespace gearbox {

using client::Clock;
using client::Connection;
using Ms = std::chrono::milliseconds;

struct AdminClient::Impl {
  explicit Impl(ServerAddress a) : conn(std::move(a)) {}
  Connection conn;
  std::string pending;  // bytes read past the previous reply
};

namespace {

int MsLeft(Clock::time_point deadline) {
  auto d = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  return d < 0 ? 0 : static_cast<int>(d);
}

// Length of a complete reply at the start of `buf`, or 0 if more bytes are needed.
size_t CompleteReply(std::string_view buf, AdminClient::Reply kind) {
  size_t nl = buf.find('\n');
  if (nl == std::string_view::npos) return 0;
  if (kind == AdminClient::Reply::kLine) return nl + 1;
  std::string_view first = buf.substr(0, nl + 1);
  if (first.rfind("ERR ", 0) == 0 || first == ".\n" || first == ".\r\n") return nl + 1;
  size_t pos = 0;
  while (true) {
    size_t end = buf.find('\n', pos);
    if (end == std::string_view::npos) return 0;
    std::string_view line = buf.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == ".") return end + 1;
    pos = end + 1;
  }
}

}  // namespace

Expected<AdminClient> AdminClient::Connect(const ServerAddress& server, Ms timeout) {
  auto impl = std::make_unique<Impl>(server);
  auto deadline = Clock::now() + timeout;
  auto r = impl->conn.StartConnect();
  if (!r.ok()) return r.error();
  while (impl->conn.state() == Connection::State::kConnecting) {
    pollfd p{impl->conn.fd(), POLLOUT, 0};
    int left = MsLeft(deadline);
    if (left == 0) {
      return Error(Errc::kTimeout,
                   "connecting to " + impl->conn.name() + " timed out after " +
                       std::to_string(timeout.count()) + " ms",
                   {}, impl->conn.name());
    }
    if (::poll(&p, 1, left) <= 0) continue;
    auto c = impl->conn.ContinueConnect();
    if (!c.ok()) return c.error();
  }
  return AdminClient(std::move(impl));
}

AdminClient::AdminClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminClient::AdminClient(AdminClient&&) noexcept = default;
AdminClient& AdminClient::operator=(AdminClient&&) noexcept = default;
AdminClient::~AdminClient() = default;

AdminClient::Reply AdminClient::ReplyFor(std::string_view command) {
  std::string c;
  for (char ch : command)
    c.push_back(static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
  while (!c.empty() && (c.back() == ' ' || c.back() == '\r' || c.back() == '\n'))
    c.pop_back();
  if (c == "status" || c == "prioritystatus" || c == "workers" || c == "show jobs" ||
      c == "show unique jobs") {
    return Reply::kList;
  }
  return Reply::kLine;
}

Expected<std::string> AdminClient::Execute(std::string_view command, Reply kind, Ms timeout) {
  auto& conn = impl_->conn;
  if (conn.state() != Connection::State::kConnected) {
    return Error(Errc::kConnectionLost, "the admin connection to " + conn.name() + " is closed", {},
                 conn.name());
  }
  auto deadline = Clock::now() + timeout;
  std::string line(command);
  line += "\r\n";
  conn.out().Append(line);
  while (conn.wants_write()) {
    auto w = conn.Flush();
    if (!w.ok()) return w.error();
    if (!conn.wants_write()) break;
    pollfd p{conn.fd(), POLLOUT, 0};
    if (MsLeft(deadline) == 0) {
      return Error(Errc::kTimeout, "sending to " + conn.name() + " timed out", {}, conn.name());
    }
    ::poll(&p, 1, MsLeft(deadline));
  }
  std::string& buf = impl_->pending;
  while (true) {
    if (size_t n = CompleteReply(buf, kind); n > 0) {
      std::string reply = buf.substr(0, n);
      buf.erase(0, n);
      return reply;
    }
    int left = MsLeft(deadline);
    if (left == 0) {
      return Error(Errc::kTimeout,
                   conn.name() + " did not complete its reply to '" + std::string(command) +
                       "' within " + std::to_string(timeout.count()) + " ms",
                   {}, conn.name());
    }
    pollfd p{conn.fd(), POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) continue;
    char tmp[16384];
    ssize_t n = ::recv(conn.fd(), tmp, sizeof(tmp), 0);
    if (n > 0) {
      buf.append(tmp, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    std::string why = n == 0 ? "closed the connection" : client::ErrnoText(errno);
    conn.Close();
    return Error(Errc::kConnectionLost,
                 conn.name() + " " + why + " before replying to '" + std::string(command) + "'", {},
                 conn.name());
  }
}

}  // namespace gearbox
