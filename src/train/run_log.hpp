#pragma once
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

// RUN_DIR/metrics.jsonl: one JSON object per line, flushed at once, so a crash or a `tail -f`
// sees every event up to the last. Each carries "event" and "time" (seconds since the run
// started, this session).
namespace aisle::train {

class RunLog {
 public:
  RunLog(const std::filesystem::path& path, bool append);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
  void write(const std::string& event, nlohmann::json fields);

 private:
  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace aisle::train
