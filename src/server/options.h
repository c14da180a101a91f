// ServerOptions: everything gearmand's command line and config file can say, parsed with the
// same flag names and defaults as gearmand 1.1.20 (gearmand-behaviour.md §3).
// Parsed once by the main thread before anything starts; read-only afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/status.h"

namespace gearbox::server {

struct ServerOptions {
  // General
  int backlog = 32;
  bool daemon = false;
  bool exceptions = false;
  int64_t file_descriptors = 0;     // 0: raise to the hard limit
  int job_retries = -1;             // -1 unlimited; 0 no retries; N attempts
  std::string job_handle_prefix;    // default "H:<nodename>"
  int64_t hashtable_buckets = 991;  // accepted for compatibility; our tables resize themselves
  bool keepalive = false;
  int keepalive_idle = -1;
  int keepalive_interval = -1;
  int keepalive_count = -1;
  std::string log_file = "/var/log/gearmand.log";  // or "stderr" / "none"
  std::vector<std::string> listen;                 // -L, repeatable; empty = all addresses
  std::string pid_file;
  std::vector<std::string> protocols;  // -r
  bool round_robin = false;            // -R: accepted; round-robin is always on
  std::string queue_type = "builtin";
  std::string config_file = "/etc/gearmand.conf";
  bool config_file_given = false;
  bool syslog = false;
  bool coredump = false;
  int threads = 0;             // 0: one loop if <= 4 CPUs, else one I/O thread per CPU
  bool threads_exact = false;  // use -t even when the machine has fewer CPUs
  std::string user;
  log::Level verbose = log::Level::kError;
  int worker_wakeup = 0;
  bool check_args = false;
  bool show_version = false;
  bool show_help = false;
  std::string help_text;
  // Gear protocol
  std::string port = "4730";
  uint32_t max_packet_size = 256u * 1024 * 1024;
  std::string io_engine = "auto";  // auto | io_uring | epoll
  bool ssl = false;
  std::string ssl_ca_file, ssl_certificate, ssl_key;
  // HTTP protocol
  int http_port = 8080;
  // Queue modules (parsed so existing configurations load; see ValidateModules)
  std::string libsqlite3_db, libsqlite3_table = "gearman_queue";
  bool store_queue_on_shutdown = false;
  std::string libpq_conninfo, libpq_table = "queue";
  std::string mysql_host = "localhost", mysql_user, mysql_password, mysql_db,
              mysql_table = "gearman_queue";
  int mysql_port = 3306;
  std::string libmemcached_servers, libmemcached_prefix = "gear_";
  std::string redis_server, redis_port, redis_password, redis_prefix = "_gear_";
  std::string libtokyocabinet_file;
  bool libtokyocabinet_optimize = true;
  std::string libdrizzle_host, libdrizzle_uds, libdrizzle_user = "root", libdrizzle_password,
                                               libdrizzle_db = "gearman",
                                               libdrizzle_table = "queue";
  int libdrizzle_port = 0;
  bool libdrizzle_mysql = false;
};

// Parses argv (and the config file it names, gearmand's format: whitespace-separated options).
// Command-line values win over the file. On --help/--version the flags are set and OK returned.
Result<ServerOptions> ParseOptions(int argc, const char* const* argv);

// Refuses, with a message naming the module, options that select modules this build lacks.
Status ValidateModules(const ServerOptions& options);

// Splits a config file's text into option tokens (space, tab, CR and LF separate them).
std::vector<std::string> TokenizeConfig(const std::string& text);

}  // namespace gearbox::server
