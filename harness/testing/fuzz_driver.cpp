// A replay driver for libFuzzer targets, for builds without libFuzzer (gcc, sanitizer presets).
//
// Usage: <target>_replay [corpus files or directories...]
// Feeds the target every corpus file, then a bounded number of inputs derived from a seed
// ($FAULTLINE_SEED, else drawn and printed): random bytes, and corpus inputs with bytes flipped,
// inserted, truncated and spliced. It stops by itself; a crash or sanitizer report fails the test.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/rng.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using Bytes = std::vector<std::uint8_t>;

// The input being fed, for the crash handler: it writes it to fuzz-crash.bin in the working
// directory, so a failure can be replayed with `<target>_replay fuzz-crash.bin`.
const Bytes* g_current = nullptr;

void on_crash(int sig) {
  if (g_current != nullptr) {
    const int fd = ::open("fuzz-crash.bin", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const char* p = reinterpret_cast<const char*>(g_current->data());
      std::size_t left = g_current->size();
      while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n <= 0) break;
        p += n;
        left -= static_cast<std::size_t>(n);
      }
      ::close(fd);
      static const char kSaved[] = "fuzz replay: the crashing input is in fuzz-crash.bin\n";
      [[maybe_unused]] auto ignored = ::write(2, kSaved, sizeof kSaved - 1);
    }
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void feed(const Bytes& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(input.data(), input.size());
  g_current = nullptr;
}

Bytes read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes mutate(Bytes input, faultline::Rng& rng, const std::vector<Bytes>& corpus) {
  const int edits = static_cast<int>(rng.uniform(1, 8));
  for (int e = 0; e < edits; ++e) {
    switch (rng.uniform(0, 4)) {
      case 0:  // flip a byte
        if (!input.empty()) input[rng.index(input.size())] = static_cast<std::uint8_t>(rng.next());
        break;
      case 1:  // insert bytes
        input.insert(input.begin() + static_cast<long>(rng.index(input.size() + 1)),
                     rng.uniform(1, 16), static_cast<std::uint8_t>(rng.next()));
        break;
      case 2:  // truncate
        if (!input.empty()) input.resize(rng.index(input.size()));
        break;
      case 3:  // splice another corpus input
        if (!corpus.empty()) {
          const Bytes& other = corpus[rng.index(corpus.size())];
          input.insert(input.end(), other.begin(), other.end());
        }
        break;
      default:  // an interesting integer
        for (std::uint8_t b : {0xff, 0xff, 0xff, 0x7f}) input.push_back(b);
        break;
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_crash);
  // Sorted, so that a seed generates the same inputs from the same corpus on every machine.
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p = argv[i];
    if (std::filesystem::is_directory(p)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(p)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else if (std::filesystem::is_regular_file(p)) {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Bytes> corpus;
  for (const auto& f : files) corpus.push_back(read_all(f));
  const auto seed = faultline::choose_seed(std::nullopt);
  std::printf("fuzz replay: %zu corpus inputs; seed %llu (%s); FAULTLINE_SEED=%llu reproduces\n",
              corpus.size(), static_cast<unsigned long long>(seed.seed), seed.source.c_str(),
              static_cast<unsigned long long>(seed.seed));
  std::fflush(stdout);
  for (const auto& input : corpus) feed(input);
  faultline::Rng rng = faultline::Rng(seed.seed).child("fuzz-replay");
  constexpr int kRandomInputs = 20000;
  for (int i = 0; i < kRandomInputs; ++i) {
    if (!corpus.empty() && rng.bernoulli(0.8)) {
      feed(mutate(corpus[rng.index(corpus.size())], rng, corpus));
    } else {
      Bytes input(rng.uniform(0, 256));
      for (auto& b : input) b = static_cast<std::uint8_t>(rng.next());
      feed(input);
    }
  }
  std::printf("fuzz replay: %d generated inputs, no crash\n", kRandomInputs);
  return 0;
}
