#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/data/input_stream.hpp"

namespace aisle::data {

// How a delimited text file is laid out.
struct Dialect {
  std::string delimiter = ",";  // one or more bytes: ",", "\t", "|", "::" (MovieLens 1M/10M)
  bool whitespace = false;      // fields are separated by runs of spaces/tabs (LightGCN, SASRec)
  bool quotes = true;           // RFC 4180 double quotes (never in whitespace mode)
  bool header = false;          // the first record names the columns
  size_t max_record_bytes = size_t{64} << 20;  // a longer record is an error (an unclosed quote)
};

// Streams the records of a delimited file through a large reusable buffer. Fields are views into
// that buffer, valid until the next call to next(); nothing is allocated per record once the
// buffer and the field list have grown to fit. Handles a UTF-8 BOM, LF and CRLF line ends, blank
// lines (skipped), a last line without a newline, quoted fields holding delimiters, newlines and
// doubled quotes, and a header line, which must not reappear inside the file.
//
// A malformed record (an unclosed quote, text after a closing quote, a repeated header) is still
// returned, with error() saying why: the caller decides whether to stop or skip it. Only a record
// longer than max_record_bytes, or an unreadable input, throws (aisle::DataError), since no
// record boundary can be found after it.
class DelimitedReader {
 public:
  DelimitedReader(std::unique_ptr<ByteSource> source, std::string name, Dialect dialect = {});
  // Opens a plain, .xz or .gz file (input_stream.hpp); `name` in messages is the path. (Inline, so
  // that the tokenizer alone, as in the fuzzer, needs no decompression libraries.)
  explicit DelimitedReader(const std::filesystem::path& path, Dialect dialect = {})
      : DelimitedReader(open_input(path), path.string(), std::move(dialect)) {}
  ~DelimitedReader();
  DelimitedReader(DelimitedReader&&) noexcept;
  DelimitedReader& operator=(DelimitedReader&&) = delete;

  // Reads the BOM and the header line (if any); next() does it on its first call.
  void start();
  // Advances to the next non-blank data record; false at the end of the input.
  bool next();

  size_t size() const { return fields_.size(); }
  std::string_view operator[](size_t i) const { return fields_[i]; }
  const std::vector<std::string_view>& fields() const { return fields_; }
  // Why the current record is malformed, or nullptr; error_field() is the field it concerns, or
  // npos when it concerns the whole record.
  const char* error() const { return error_; }
  size_t error_field() const { return error_field_; }
  static constexpr size_t npos = static_cast<size_t>(-1);

  int64_t line() const { return record_line_; }  // 1-based line on which the current record starts
  const std::string& name() const { return name_; }
  // The column names (Dialect::header), read by start(); empty for an empty input.
  const std::vector<std::string>& header() const { return header_; }
  const Dialect& dialect() const { return dialect_; }
  int64_t records() const { return records_; }  // data records returned so far
  uint64_t bytes() const { return consumed_; }   // (decompressed) bytes consumed so far

 private:
  enum class Scan { record, blank, need_more };
  Scan scan_record();
  void split_line(const char* p, const char* end);
  template <bool Emit> char* quoted_record(char* p, char* end, bool eof, int64_t& newlines);
  int delimiter_at(const char* p, const char* end, bool eof) const;
  void flag(const char* why, size_t field);
  void refill();
  void skip_bom();

  std::unique_ptr<ByteSource> source_;
  std::string name_;
  Dialect dialect_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false, started_ = false;
  std::vector<std::string_view> fields_;
  std::vector<std::string> header_;
  const char* error_ = nullptr;
  size_t error_field_ = npos;
  int64_t line_ = 1, record_line_ = 0, records_ = 0;
  uint64_t consumed_ = 0;
};

}  // namespace aisle::data
