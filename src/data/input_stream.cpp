#include "aisle/data/input_stream.hpp"

#include <lzma.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"

namespace aisle::data {

namespace fs = std::filesystem;

namespace {

constexpr size_t kCompressedChunk = size_t{1} << 20;

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const fs::path& path) : name_(path.string()) {
    std::error_code ec;
    AISLE_DATA_CHECK(!fs::is_directory(path, ec), name_, ": is a directory, not a file");
    file_ = std::fopen(path.c_str(), "rb");
    AISLE_DATA_CHECK(file_ != nullptr, name_, ": cannot open: ", std::strerror(errno));
  }
  ~FileSource() override { std::fclose(file_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  size_t read(char* dst, size_t n) override {
    const size_t got = std::fread(dst, 1, n, file_);
    AISLE_DATA_CHECK(got == n || !std::ferror(file_), name_, ": read error: ", std::strerror(errno));
    return got;
  }

 private:
  std::string name_;
  std::FILE* file_ = nullptr;
};

// Both decoders pull compressed bytes from the file in large chunks and decode straight into the
// caller's buffer; the state machines differ only in the library calls.
class XzSource final : public ByteSource {
 public:
  XzSource(std::unique_ptr<ByteSource> file, std::string name)
      : file_(std::move(file)), name_(std::move(name)), in_(kCompressedChunk) {
    // LZMA_CONCATENATED: `xz` output may hold several streams back to back (pxz, cat a.xz b.xz).
    const lzma_ret r = lzma_stream_decoder(&z_, UINT64_MAX, LZMA_CONCATENATED);
    AISLE_CHECK(r == LZMA_OK, name_, ": cannot start the xz decoder (code ", static_cast<int>(r), ")");
  }
  ~XzSource() override { lzma_end(&z_); }

  size_t read(char* dst, size_t n) override {
    if (done_ || n == 0) return 0;
    z_.next_out = reinterpret_cast<uint8_t*>(dst);
    z_.avail_out = n;
    while (z_.avail_out == n) {
      lzma_action action = LZMA_RUN;
      if (z_.avail_in == 0) {
        z_.next_in = reinterpret_cast<const uint8_t*>(in_.data());
        z_.avail_in = file_->read(in_.data(), in_.size());
        if (z_.avail_in == 0) action = LZMA_FINISH;
      }
      const lzma_ret r = lzma_code(&z_, action);
      if (r == LZMA_STREAM_END) {
        done_ = true;
        break;
      }
      if (r != LZMA_OK) fail(r);
    }
    return n - z_.avail_out;
  }

 private:
  [[noreturn]] void fail(lzma_ret r) const {
    const char* why = r == LZMA_BUF_ERROR    ? "the xz data is truncated"
                      : r == LZMA_FORMAT_ERROR ? "not valid xz data"
                      : r == LZMA_DATA_ERROR   ? "the xz data is corrupt"
                      : r == LZMA_MEM_ERROR    ? "out of memory while decompressing"
                                               : "xz decoding failed";
    AISLE_DATA_FAIL(name_, ": ", why, " (liblzma code ", static_cast<int>(r), ")");
  }
  std::unique_ptr<ByteSource> file_;
  std::string name_;
  std::vector<char> in_;
  lzma_stream z_ = LZMA_STREAM_INIT;
  bool done_ = false;
};

class GzSource final : public ByteSource {
 public:
  GzSource(std::unique_ptr<ByteSource> file, std::string name)
      : file_(std::move(file)), name_(std::move(name)), in_(kCompressedChunk) {
    // 16 + MAX_WBITS: gzip wrapper only (zlib's raw and zlib wrappers are not .gz files).
    AISLE_CHECK(inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK, name_, ": cannot start the gzip decoder");
  }
  ~GzSource() override { inflateEnd(&z_); }

  size_t read(char* dst, size_t n) override {
    if (done_ || n == 0) return 0;
    // zlib counts in uInt; a huge request is simply served in parts.
    z_.next_out = reinterpret_cast<Bytef*>(dst);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    const uInt want = z_.avail_out;
    while (z_.avail_out == want) {
      if (z_.avail_in == 0) {
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(file_->read(in_.data(), in_.size()));
        if (z_.avail_in == 0) {
          AISLE_DATA_CHECK(!mid_member_, name_, ": the gzip data is truncated");
          done_ = true;
          break;
        }
      }
      const int r = inflate(&z_, Z_NO_FLUSH);
      mid_member_ = true;
      if (r == Z_STREAM_END) {
        // A .gz may hold several members (cat a.gz b.gz); each is decoded in turn.
        mid_member_ = false;
        AISLE_CHECK(inflateReset(&z_) == Z_OK, name_, ": gzip reset failed");
        continue;
      }
      if (r == Z_BUF_ERROR && z_.avail_in == 0) continue;  // needs more input, fetched above
      AISLE_DATA_CHECK(r == Z_OK, name_, ": the gzip data is corrupt (",
                       z_.msg ? z_.msg : "zlib error", ")");
    }
    return want - z_.avail_out;
  }

 private:
  std::unique_ptr<ByteSource> file_;
  std::string name_;
  std::vector<char> in_;
  z_stream z_{};
  bool done_ = false, mid_member_ = false;
};

// Re-serves the magic bytes read for format detection, then continues from the file.
class PrefixedSource final : public ByteSource {
 public:
  PrefixedSource(std::string prefix, std::unique_ptr<ByteSource> file) : prefix_(std::move(prefix)), file_(std::move(file)) {}
  size_t read(char* dst, size_t n) override {
    if (used_ < prefix_.size()) {
      const size_t k = std::min(n, prefix_.size() - used_);
      std::memcpy(dst, prefix_.data() + used_, k);
      used_ += k;
      return k;
    }
    return file_->read(dst, n);
  }

 private:
  std::string prefix_;
  size_t used_ = 0;
  std::unique_ptr<ByteSource> file_;
};

}  // namespace

std::unique_ptr<ByteSource> open_input(const fs::path& path) {
  auto file = std::make_unique<FileSource>(path);
  // Sniff the magic bytes from the one handle (so pipes such as /dev/stdin work too), then
  // hand them back in front of the rest.
  std::string magic(6, '\0');
  size_t got = 0;
  while (got < magic.size()) {
    const size_t k = file->read(magic.data() + got, magic.size() - got);
    if (k == 0) break;
    got += k;
  }
  magic.resize(got);
  auto source = std::make_unique<PrefixedSource>(magic, std::move(file));
  static constexpr char kXz[6] = {'\xFD', '7', 'z', 'X', 'Z', '\0'};
  if (magic == std::string_view(kXz, 6)) return std::make_unique<XzSource>(std::move(source), path.string());
  if (magic.size() >= 2 && magic[0] == '\x1F' && magic[1] == '\x8B')
    return std::make_unique<GzSource>(std::move(source), path.string());
  return source;
}

}  // namespace aisle::data
