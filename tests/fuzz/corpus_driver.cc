// A plain main() for the fuzz targets, so compilers without libFuzzer (gcc, the dev/asan/tsan
// presets) still run them: every file under the given paths is fed to LLVMFuzzerTestOneInput,
// followed by `--mutations=N` deterministic variants of it (byte flips, insertions, deletions,
// truncations, splices with the previous file). Exits non-zero if no input was found; a
// violated invariant aborts inside the target.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void Run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

uint64_t Next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Mutate(const std::string& in, const std::string& other, uint64_t& rng) {
  std::string s = in;
  int edits = 1 + static_cast<int>(Next(rng) % 4);
  for (int e = 0; e < edits; ++e) {
    size_t pos = s.empty() ? 0 : Next(rng) % s.size();
    switch (Next(rng) % 6) {
      case 0:
        if (!s.empty()) s[pos] = static_cast<char>(s[pos] ^ (1 << (Next(rng) % 8)));
        break;
      case 1:
        s.insert(pos, 1, static_cast<char>(Next(rng)));
        break;
      case 2:
        if (!s.empty()) s.erase(pos, 1 + Next(rng) % 8);
        break;
      case 3:
        s.resize(pos);
        break;
      case 4:
        if (!s.empty()) s[pos] = "\0\n\r \t-*H:0"[Next(rng) % 10];
        break;
      default:
        if (!other.empty()) {
          size_t from = Next(rng) % other.size();
          s.insert(pos, other.substr(from, 1 + Next(rng) % 64));
        }
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--mutations=", 0) == 0) {
      mutations = std::strtol(a.c_str() + 12, nullptr, 10);
      continue;
    }
    std::filesystem::path p(a);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (std::filesystem::is_regular_file(p)) {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "no inputs found\n");
    return 1;
  }
  std::string prev;
  long runs = 0;
  for (const auto& p : files) {
    std::string s = ReadFile(p);
    Run(s);
    ++runs;
    uint64_t rng = std::hash<std::string>()(p.filename().string());
    for (long m = 0; m < mutations; ++m) {
      Run(Mutate(s, prev, rng));
      ++runs;
    }
    prev = std::move(s);
  }
  std::printf("ran %ld inputs from %zu files\n", runs, files.size());
  return 0;
}
