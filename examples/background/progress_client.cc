// Background-job example, client side: submits a background "count" job, then polls its
// status by handle until the server no longer knows it (finished), printing the progress.
// Usage: progress_client [servers] [steps]
#include <iostream>
#include <string>
#include <thread>

#include "gearbox/gearbox.h"

int main(int argc, char** argv) {
  auto client = gearbox::Client::Create({.servers = argc > 1 ? argv[1] : ""});
  if (!client) {
    std::cerr << "progress_client: " << client.error().message() << "\n";
    return 1;
  }
  auto job = client->DoBackground("count", argc > 2 ? argv[2] : "10");
  if (!job) {
    std::cerr << "progress_client: " << job.error().message() << "\n";
    return 1;
  }
  std::cout << "queued " << job->handle << " on " << job->server << "\n";
  uint32_t last = UINT32_MAX;
  while (true) {
    auto status = client->GetStatus(*job);
    if (!status) {
      std::cerr << "progress_client: " << status.error().message() << "\n";
      return 1;
    }
    if (!status->known) break;
    if (status->running && status->denominator > 0 && status->numerator != last) {
      last = status->numerator;
      std::cout << "progress " << status->numerator << "/" << status->denominator << "\n";
    } else if (!status->running && last == UINT32_MAX) {
      std::cout << "waiting for a worker\n";
      last = UINT32_MAX - 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cout << "done\n";
  return 0;
}
