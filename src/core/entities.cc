// Job allocation: one block, header plus bytes.
#include "core/entities.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace gearbox::core {

Job* Job::Create(std::string_view unique, std::string_view reducer, std::string_view data) {
  size_t extra = unique.size() + reducer.size() + data.size();
  void* mem = std::malloc(sizeof(Job) + extra);
  if (mem == nullptr) throw std::bad_alloc();
  Job* j = new (mem) Job();
  j->unique_len = static_cast<uint8_t>(unique.size());
  j->reducer_len = static_cast<uint16_t>(reducer.size());
  j->data_len = static_cast<uint32_t>(data.size());
  char* p = j->bytes();
  if (!unique.empty()) std::memcpy(p, unique.data(), unique.size());
  p += unique.size();
  if (!reducer.empty()) std::memcpy(p, reducer.data(), reducer.size());
  p += reducer.size();
  if (!data.empty()) std::memcpy(p, data.data(), data.size());
  return j;
}

void Job::Destroy(Job* job) {
  job->~Job();
  std::free(job);
}

}  // namespace gearbox::core
