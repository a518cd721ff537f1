#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace aisle::data {

// What an import did with every input row: kept, or dropped for a named reason (a malformed row
// under --on-error skip, or a documented rule such as "cancelled invoice"). Stored in meta.json
// and printed by `aisle data import`.
struct ImportReport {
  int64_t rows_read = 0;
  int64_t rows_kept = 0;
  struct Reason {
    int64_t count = 0;
    std::vector<std::string> examples;  // "file:line: column: why", the first few
  };
  std::map<std::string, Reason> dropped;  // by reason
  std::vector<std::string> notes;         // the rules applied, in words

  static constexpr size_t kExamplesPerReason = 5;
  void drop(const std::string& reason, const std::string& example);
  int64_t rows_dropped() const;
  std::string summary() const;  // human-readable, several lines
};

}  // namespace aisle::data
