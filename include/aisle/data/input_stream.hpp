#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>

namespace aisle::data {

// A stream of bytes read in large chunks: a plain file, an .xz or .gz file decompressed on the
// fly, or memory (tests, the fuzzer). Importers never hold a whole input in memory.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to n bytes of dst; returns how many, 0 only at the end. Throws aisle::DataError
  // naming the file on read errors and corrupt or truncated compressed data.
  virtual size_t read(char* dst, size_t n) = 0;
};

// Opens `path`, recognising xz and gzip by their magic bytes (not the file name), so a user can
// point at ratings.csv.xz directly. A missing or unreadable file is a DataError naming it.
std::unique_ptr<ByteSource> open_input(const std::filesystem::path& path);

// Reads from memory without copying. `max_chunk` limits each read (the fuzzer uses it to put
// chunk boundaries everywhere a record can be split).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes, size_t max_chunk = static_cast<size_t>(-1))
      : bytes_(bytes), max_chunk_(max_chunk == 0 ? 1 : max_chunk) {}
  size_t read(char* dst, size_t n) override {
    n = std::min({n, max_chunk_, bytes_.size()});
    if (n > 0) std::memcpy(dst, bytes_.data(), n);
    bytes_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view bytes_;
  size_t max_chunk_;
};

}  // namespace aisle::data
