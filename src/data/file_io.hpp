#pragma once
// Internal: binary column files with running SHA-256, and small helpers shared by the dataset
// writer and reader.
#include <openssl/evp.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "aisle/core/dtype.hpp"

namespace aisle::data::detail {

// Appends raw elements to a file through a large buffer, hashing as it goes.
class ColumnFile {
 public:
  ColumnFile(std::filesystem::path path, DType dtype);
  ~ColumnFile();
  ColumnFile(const ColumnFile&) = delete;
  ColumnFile& operator=(const ColumnFile&) = delete;

  template <class T>
  void push(const T& v) {
    if (used_ + sizeof(T) > buffer_.size()) flush();
    std::memcpy(buffer_.data() + used_, &v, sizeof(T));
    used_ += sizeof(T);
    ++count_;
  }
  void write(const void* data, size_t bytes, int64_t elements);
  // Flushes, closes, returns the lowercase hex SHA-256 of everything written.
  std::string finish();
  int64_t count() const { return count_; }
  DType dtype() const { return dtype_; }

 private:
  void flush();
  std::filesystem::path path_;
  DType dtype_;
  std::FILE* file_ = nullptr;
  EVP_MD_CTX* sha_ = nullptr;
  std::vector<char> buffer_;
  size_t used_ = 0;
  int64_t count_ = 0;
};

std::string hex(const unsigned char* digest, unsigned len);

}  // namespace aisle::data::detail
