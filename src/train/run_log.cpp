#include "src/train/run_log.hpp"

#include <cerrno>
#include <cstring>

#include "aisle/core/error.hpp"

namespace aisle::train {

RunLog::RunLog(const std::filesystem::path& path, bool append) : path_(path) {
  file_ = std::fopen(path.c_str(), append ? "a" : "w");
  AISLE_CHECK(file_ != nullptr, path.string(), ": cannot open for writing: ", std::strerror(errno));
}

RunLog::~RunLog() {
  if (file_) std::fclose(file_);
}

void RunLog::write(const std::string& event, nlohmann::json fields) {
  nlohmann::json line = {{"event", event},
                         {"time", std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()}};
  line.update(fields);
  const std::string text = line.dump() + "\n";
  AISLE_CHECK(std::fwrite(text.data(), 1, text.size(), file_) == text.size() && std::fflush(file_) == 0,
              path_.string(), ": write failed: ", std::strerror(errno));
}

}  // namespace aisle::train
