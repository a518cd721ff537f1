#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/data/import_report.hpp"

// Importers: source files of a known format -> the canonical dataset directory (dataset.hpp).
// Inputs may be plain, .xz or .gz. Every malformed row is named as
//   FILE:LINE: column 'NAME' (INDEX): 'TEXT' REASON          (INDEX is 0-based, as in --map)
//   FILE:LINE: REASON                                         (whole-row problems)
// With OnError::fail the first one throws aisle::DataError and nothing is written; with
// OnError::skip it is counted in the ImportReport (by reason, with the first examples) and the
// import goes on. Empty and missing files, and a missing required header column, always throw.
namespace aisle::data {

enum class OnError { fail, skip };

struct ImportOptions {
  std::string format;                        // one of import_formats()
  std::vector<std::filesystem::path> inputs;  // rows get Part::train if valid/test are given
  std::filesystem::path valid;                // optional: rows get Part::valid
  std::filesystem::path test;                 // optional: rows get Part::test
  std::filesystem::path out;
  bool overwrite = false;  // replace an existing `out` (on success only)
  OnError on_error = OnError::fail;
  // `delimited` only: role -> header name or 0-based column index. Roles: user, item (required),
  // rating or weight, timestamp, event, and the item side features category, brand, price, text.
  std::map<std::string, std::string> columns;
  std::optional<std::string> delimiter;  // override the format's delimiter ("whitespace" for runs of blanks)
  std::optional<bool> header;            // override whether the first line names the columns
};

struct ImportResult {
  std::filesystem::path out;
  ImportReport report;
  int64_t interactions = 0, users = 0, items = 0;
  uint64_t input_bytes = 0;  // decompressed bytes parsed
  double seconds = 0;        // wall time of the whole import, checksums included
};

// Runs one import. Throws aisle::DataError for bad input data (see above) and aisle::Error for a
// bad request (unknown format, a --map role that does not exist).
ImportResult import_dataset(const ImportOptions& options);

struct FormatInfo {
  std::string name;
  std::string description;
};
const std::vector<FormatInfo>& import_formats();

// "user=userId,item=2,rating=stars" -> {user: userId, item: 2, rating: stars}; throws
// aisle::Error on a malformed entry, an unknown role or a role given twice.
std::map<std::string, std::string> parse_column_map(std::string_view text);
// Delimiter as typed on a command line: "\t", "tab", ",", "::", "space", "whitespace", ...;
// returns "whitespace" for whitespace mode. Throws aisle::Error for an empty or unusable one.
std::string parse_delimiter(std::string_view text);

}  // namespace aisle::data
