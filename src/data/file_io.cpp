#include "src/data/file_io.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "aisle/core/error.hpp"
#include "aisle/data/dataset.hpp"

namespace aisle::data {

namespace detail {

std::string hex(const unsigned char* digest, unsigned len) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(2 * len, '0');
  for (unsigned i = 0; i < len; ++i) {
    s[2 * i] = kDigits[digest[i] >> 4];
    s[2 * i + 1] = kDigits[digest[i] & 15];
  }
  return s;
}

ColumnFile::ColumnFile(std::filesystem::path path, DType dtype)
    : path_(std::move(path)), dtype_(dtype), buffer_(size_t{1} << 20) {
  file_ = std::fopen(path_.c_str(), "wb");
  AISLE_CHECK(file_ != nullptr, path_.string(), ": cannot create: ", std::strerror(errno));
  sha_ = EVP_MD_CTX_new();
  AISLE_CHECK(sha_ && EVP_DigestInit_ex(sha_, EVP_sha256(), nullptr) == 1, "SHA-256 initialisation failed");
}

ColumnFile::~ColumnFile() {
  if (file_) std::fclose(file_);
  if (sha_) EVP_MD_CTX_free(sha_);
}

void ColumnFile::write(const void* data, size_t bytes, int64_t elements) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    if (used_ == buffer_.size()) flush();
    const size_t n = std::min(bytes, buffer_.size() - used_);
    std::memcpy(buffer_.data() + used_, p, n);
    used_ += n;
    p += n;
    bytes -= n;
  }
  count_ += elements;
}

void ColumnFile::flush() {
  if (used_ == 0) return;
  EVP_DigestUpdate(sha_, buffer_.data(), used_);
  AISLE_CHECK(std::fwrite(buffer_.data(), 1, used_, file_) == used_, path_.string(),
              ": write failed: ", std::strerror(errno));
  used_ = 0;
}

std::string ColumnFile::finish() {
  flush();
  AISLE_CHECK(std::fclose(file_) == 0, path_.string(), ": close failed: ", std::strerror(errno));
  file_ = nullptr;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(sha_, digest, &len);
  return hex(digest, len);
}

}  // namespace detail

std::string sha256_hex(const void* data, size_t n) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  AISLE_CHECK(EVP_Digest(data, n, digest, &len, EVP_sha256(), nullptr) == 1, "SHA-256 failed");
  return detail::hex(digest, len);
}

std::string sha256_file(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  AISLE_DATA_CHECK(f != nullptr, path.string(), ": cannot open: ", std::strerror(errno));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(size_t{1} << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) EVP_DigestUpdate(ctx, buf.data(), n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  AISLE_DATA_CHECK(!failed, path.string(), ": read error");
  return detail::hex(digest, len);
}

}  // namespace aisle::data
