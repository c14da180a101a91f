// The spdlog backend of the logging facade (base/log.h): one logger with a reopenable file
// sink, stderr, or syslog. Installed once by the main thread before other threads start.
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "base/log.h"
#include "server/server.h"

namespace gearbox::server {
namespace {

// A file sink that can reopen its file under its own lock (logrotate + SIGHUP).
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(std::string path) : path_(std::move(path)) { Open(); }
  ~ReopenableFileSink() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  bool is_open() const { return file_ != nullptr; }
  void Reopen() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (file_ != nullptr) std::fclose(file_);
    Open();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (file_ == nullptr) return;
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), file_);
    std::fflush(file_);
  }
  void flush_() override {
    if (file_ != nullptr) std::fflush(file_);
  }

 private:
  void Open() { file_ = std::fopen(path_.c_str(), "a"); }
  std::string path_;
  std::FILE* file_ = nullptr;
};

std::shared_ptr<spdlog::logger> g_logger;
std::shared_ptr<ReopenableFileSink> g_file;

spdlog::level::level_enum ToSpd(log::Level l) {
  switch (l) {
    case log::Level::kFatal:
    case log::Level::kAlert:
    case log::Level::kCritical:
      return spdlog::level::critical;
    case log::Level::kError:
      return spdlog::level::err;
    case log::Level::kWarning:
      return spdlog::level::warn;
    case log::Level::kNotice:
    case log::Level::kInfo:
      return spdlog::level::info;
    case log::Level::kDebug:
      return spdlog::level::debug;
  }
  return spdlog::level::info;
}

void Backend(log::Level level, std::string_view message) {
  // gearmand's line shape: the level name right-aligned, then the message.
  g_logger->log(ToSpd(level), "{:>8} {}", log::LevelName(level), message);
}

}  // namespace

void InitLogging(const ServerOptions& o) {
  std::vector<spdlog::sink_ptr> sinks;
  if (o.log_file == "stderr") {
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else if (o.log_file != "none" && !o.log_file.empty()) {
    auto file = std::make_shared<ReopenableFileSink>(o.log_file);
    if (file->is_open()) {
      g_file = file;
      sinks.push_back(file);
    } else {
      // gearmand falls back to stderr when the log file cannot be opened.
      sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    }
  }
  if (o.syslog) {
    sinks.push_back(
        std::make_shared<spdlog::sinks::syslog_sink_mt>("gearmand", LOG_PID, LOG_DAEMON, false));
  }
  g_logger = std::make_shared<spdlog::logger>("gearmand", sinks.begin(), sinks.end());
  g_logger->set_pattern("%Y-%m-%d %H:%M:%S.%f %v");
  g_logger->set_level(spdlog::level::trace);
  g_logger->flush_on(spdlog::level::trace);
  log::SetLevel(o.verbose);
  log::SetBackend(&Backend);
  if (!g_file && o.log_file != "stderr" && o.log_file != "none" && !o.log_file.empty()) {
    GB_LOG(kWarning, "Could not open log file {}, logging to stderr", o.log_file);
  }
}

void ReopenLog() {
  if (g_file) g_file->Reopen();
}

}  // namespace gearbox::server
