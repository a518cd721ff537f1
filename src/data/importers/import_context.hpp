#pragma once
// Internal: what every importer shares: the writer, the report and the error policy
// (ImportContext), and an input file as rows of named, checked columns (TableReader).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/data/dataset_writer.hpp"
#include "aisle/data/delimited.hpp"
#include "aisle/data/importers.hpp"

namespace aisle::data::detail {

// One input file and the split its rows belong to.
struct InputFile {
  std::filesystem::path path;
  Part part;
};

class ImportContext {
 public:
  ImportContext(const ImportOptions& options, DatasetWriter& writer);

  const ImportOptions& options;
  DatasetWriter& writer;
  ImportReport report;
  std::vector<InputFile> files;  // inputs, then valid, then test
  uint64_t bytes = 0;            // decompressed bytes parsed

  // A malformed row: throws DataError(message) under OnError::fail; under skip counts `rows`
  // rows as dropped for `reason`, with the message as an example.
  void reject(const std::string& reason, const std::string& message, int64_t rows = 1);
  // A row dropped by a documented rule of the format (never an error).
  void drop(const std::string& reason, const std::string& example, int64_t rows = 1);

  // Dense ids of integer external ids, interned in canonical decimal form ("007" is "7").
  int64_t user(int64_t external) { return lookup(user_cache_, external, true); }
  int64_t item(int64_t external) { return lookup(item_cache_, external, false); }
  // Dense ids of string external ids.
  int64_t user(std::string_view external) { return writer.user_id(external); }
  int64_t item(std::string_view external) { return writer.item_id(external); }

  void add(int64_t user, int64_t item, float value, int64_t timestamp, Event event, Part part) {
    writer.add(user, item, value, timestamp, event, part);
    ++report.rows_kept;
  }

 private:
  // Small non-negative integer ids (all the public datasets' ids) are looked up in an array
  // instead of hashing their decimal text: the hash lookups were most of an import's time.
  static constexpr int64_t kDirectIds = int64_t{1} << 24;
  int64_t lookup(std::vector<int32_t>& cache, int64_t external, bool user);
  std::vector<int32_t> user_cache_, item_cache_;  // external -> dense, -1 = not seen
};

// The rows of one file. next() returns only records with the expected number of fields that are
// not repeated headers and are well quoted; others go to ImportContext::reject. Each record
// returned counts as one row read. The conversions report a bad field as
// "FILE:LINE: column 'NAME' (INDEX): 'TEXT' REASON" and return false.
class TableReader {
 public:
  // `names`: the format's columns, used when the file has no header; `fields` the exact field
  // count (0: whatever the first record has; kVariable: any, the last name standing for every
  // later column, as in "user item item ...").
  static constexpr size_t kVariable = static_cast<size_t>(-1);
  TableReader(ImportContext& ctx, const std::filesystem::path& path, Dialect dialect,
              std::vector<std::string> names, size_t fields);
  ~TableReader();

  bool next();
  // A column by header name, or by 0-based index when `key` is a number; -1 if absent and not
  // `required` (then a DataError names the file and the columns it has).
  int column(std::string_view key, bool required);
  std::string_view operator[](int col) const { return reader_[static_cast<size_t>(col)]; }
  size_t size() const { return reader_.size(); }
  int64_t line() const { return reader_.line(); }
  const std::string& file() const { return reader_.name(); }

  // Each converts field `col`, or rejects the row and returns false.
  bool integer(int col, int64_t& out);
  bool number(int col, double& out);
  bool value(int col, float& out);  // finite and within float range
  bool time(int col, int64_t& out);
  bool text(int col, std::string_view& out);  // trimmed, non-empty
  // Rejects field `col` of the row ("REASON" follows the quoted text, as above), dropping `rows`
  // rows under OnError::skip (a per-user line stands for several).
  void reject(int col, const char* reason, int64_t rows = 1);
  bool has_header() const { return !reader_.header().empty(); }
  // Names column `col` in messages when the file has no header (--map roles).
  void name(int col, std::string role);
  // "FILE:LINE: " for messages about the current row.
  std::string where() const;
  std::string column_name(int col) const;

 private:
  ImportContext& ctx_;
  DelimitedReader reader_;
  std::vector<std::string> names_;
  size_t fields_;
  int max_column_ = -1;     // the highest column resolved, checked against the first row
  std::string delimiter_;  // as shown in messages
};

// An item text feature that keeps each item's first non-empty text, as word tokens.
class FirstItemText {
 public:
  explicit FirstItemText(std::string feature) : feature_(std::move(feature)) {}
  void offer(DatasetWriter& writer, int64_t item, std::string_view text);

 private:
  std::string feature_;
  std::vector<uint8_t> described_;  // per item: has its text already
  std::string scratch_;
  std::vector<std::string_view> words_;
};

// `Dialect` for a format's defaults with the user's --delimiter / --no-header applied.
Dialect dialect_for(const ImportOptions& options, std::string delimiter, bool header);

}  // namespace aisle::data::detail
