#pragma once
// Internal: files and directories that appear complete or not at all. Content is written under a
// temporary name in the destination's own directory (so the final rename never crosses a file
// system), flushed to disk with fsync, and only then renamed into place.
#include <cstdio>
#include <filesystem>
#include <string_view>

namespace aisle::io::detail {

// ".<name>.tmp-<pid>-<random>" beside `target`: hidden, unique across processes and threads.
std::filesystem::path temp_sibling(const std::filesystem::path& target);

// Makes a completed rename durable: the new directory entry is on disk once this returns.
void fsync_directory(const std::filesystem::path& dir);

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);
  // fsync, close, rename over the target, fsync the directory.
  void commit();

 private:
  std::filesystem::path target_, temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

void write_file_atomically(const std::filesystem::path& target, std::string_view contents);

}  // namespace aisle::io::detail
