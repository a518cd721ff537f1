#include "src/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "aisle/core/error.hpp"

namespace aisle::io::detail {

namespace fs = std::filesystem;

fs::path temp_sibling(const fs::path& target) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string name = ".";
  name.append(target.filename().string()).append(".tmp-").append(std::to_string(::getpid()));
  name.append("-").append(std::to_string(rng() & 0xffffffffu));
  return target.parent_path() / name;
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  AISLE_CHECK(fd >= 0, dir.string(), ": cannot open the directory to sync it: ", std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems cannot sync directories (EINVAL); the rename itself has still happened.
  AISLE_CHECK(rc == 0 || err == EINVAL, dir.string(), ": fsync failed: ", std::strerror(err));
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  AISLE_CHECK(!target_.filename().empty(), "cannot write '", target_.string(), "': not a file name");
  temp_ = temp_sibling(target_);
  file_ = std::fopen(temp_.c_str(), "wbx");
  AISLE_CHECK(file_ != nullptr, target_.string(), ": cannot create ", temp_.string(), ": ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::write(const void* data, size_t bytes) {
  AISLE_CHECK(file_ != nullptr, target_.string(), ": write after commit");
  if (bytes == 0) return;
  AISLE_CHECK(std::fwrite(data, 1, bytes, file_) == bytes, target_.string(), ": write failed: ",
              std::strerror(errno));
}

void AtomicFile::commit() {
  AISLE_CHECK(file_ != nullptr, target_.string(), ": committed twice");
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const int err = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  AISLE_CHECK(flushed && closed, target_.string(), ": cannot flush to disk: ", std::strerror(err));
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  AISLE_CHECK(!ec, target_.string(), ": cannot move the finished file into place: ", ec.message());
  committed_ = true;
  fsync_directory(target_.parent_path());
}

void write_file_atomically(const fs::path& target, std::string_view contents) {
  AtomicFile f(target);
  f.write(contents.data(), contents.size());
  f.commit();
}

}  // namespace aisle::io::detail
