#include "src/data/importers/import_context.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>

#include "aisle/core/error.hpp"
#include "aisle/data/fields.hpp"

namespace aisle::data::detail {

namespace fs = std::filesystem;

ImportContext::ImportContext(const ImportOptions& opts, DatasetWriter& w) : options(opts), writer(w) {
  const bool split = !opts.valid.empty() || !opts.test.empty();
  for (const auto& in : opts.inputs) files.push_back({in, split ? Part::train : Part::none});
  if (!opts.valid.empty()) files.push_back({opts.valid, Part::valid});
  if (!opts.test.empty()) files.push_back({opts.test, Part::test});
}

void ImportContext::reject(const std::string& reason, const std::string& message, int64_t rows) {
  if (options.on_error == OnError::fail) throw DataError(message);
  drop(reason, message, rows);
}

void ImportContext::drop(const std::string& reason, const std::string& example, int64_t rows) {
  if (rows <= 0) return;
  // Reasons and examples quote the input (header names, ids) and go into meta.json, which must
  // be valid UTF-8 even when the input is Latin-1.
  const std::string key = valid_utf8(reason);
  report.drop(key, valid_utf8(example));
  report.dropped[key].count += rows - 1;
}

namespace {
std::string_view decimal(int64_t v, char (&buf)[24]) {
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}
}  // namespace

int64_t ImportContext::lookup(std::vector<int32_t>& cache, int64_t external, bool is_user) {
  const size_t slot = static_cast<size_t>(external);
  if (external >= 0 && external < kDirectIds) {
    if (slot < cache.size() && cache[slot] >= 0) return cache[slot];
    if (slot >= cache.size()) cache.resize(std::min<size_t>(std::max(slot + 1, 2 * cache.size()), kDirectIds), -1);
  }
  char buf[24];
  const int64_t dense = is_user ? writer.user_id(decimal(external, buf)) : writer.item_id(decimal(external, buf));
  // Dense ids count entities; past 2^31 of them the array would not hold them (and would not fit anyway).
  if (external >= 0 && external < kDirectIds && dense < INT32_MAX) cache[slot] = static_cast<int32_t>(dense);
  return dense;
}

TableReader::TableReader(ImportContext& ctx, const fs::path& path, Dialect dialect, std::vector<std::string> names,
                         size_t fields)
    : ctx_(ctx), reader_(path, std::move(dialect)), names_(std::move(names)), fields_(fields) {
  const Dialect& d = reader_.dialect();
  delimiter_ = d.whitespace ? "whitespace" : d.delimiter == "\t" ? "\\t" : d.delimiter;
  reader_.start();
}

TableReader::~TableReader() { ctx_.bytes += reader_.bytes(); }

std::string TableReader::where() const { return reader_.name() + ":" + std::to_string(reader_.line()) + ": "; }

std::string TableReader::column_name(int col) const {
  const auto& header = reader_.header();
  const size_t c = static_cast<size_t>(col);
  if (c < header.size()) return header[c];
  if (c < names_.size() && !names_[c].empty()) return names_[c];
  if (fields_ == kVariable && !names_.empty()) return names_.back();
  return std::to_string(col).insert(0, 1, '#');
}

bool TableReader::next() {
  while (reader_.next()) {
    ++ctx_.report.rows_read;
    if (reader_.records() == 1 && fields_ == 0) {
      fields_ = reader_.header().empty() ? reader_.size() : reader_.header().size();
      AISLE_DATA_CHECK(max_column_ < static_cast<int>(fields_), where(), "column index ", max_column_,
                       " is out of range: the first row has ", fields_, " fields (delimiter '", delimiter_, "')");
    }
    if (const char* why = reader_.error()) {
      const size_t f = reader_.error_field();
      if (f == DelimitedReader::npos)
        ctx_.reject(why, where() + why);
      else
        ctx_.reject(why, where() + "column '" + column_name(static_cast<int>(f)) + "' (" + std::to_string(f) + "): " + why);
      continue;
    }
    const size_t expected = !reader_.header().empty() ? reader_.header().size() : fields_;
    if (fields_ != kVariable && reader_.size() != expected) {
      ctx_.reject("wrong number of fields", where() + std::to_string(reader_.size()) + " fields, expected " +
                                                std::to_string(expected) + " (delimiter '" + delimiter_ + "')");
      continue;
    }
    return true;
  }
  if (reader_.records() == 0)
    AISLE_DATA_FAIL(reader_.name(), reader_.header().empty() ? ": the file is empty (no rows)"
                                                             : ": the file has a header line but no rows");
  return false;
}

int TableReader::column(std::string_view key, bool required) {
  const auto& header = reader_.header();
  for (size_t c = 0; c < header.size(); ++c)
    if (header[c] == key) return static_cast<int>(c);
  int64_t index = -1;
  if (!parse_int64(key, index)) {
    const size_t count = !header.empty() ? header.size() : fields_ == kVariable ? 0 : fields_;
    AISLE_DATA_CHECK(index >= 0 && index < (1 << 20), reader_.name(), ": column index ", key, " is out of range");
    // Without a header and a fixed count the first row decides; next() checks it then.
    AISLE_DATA_CHECK(count == 0 || static_cast<size_t>(index) < count, reader_.name(), ": column index ", index,
                     " is out of range (", count, " columns)");
    max_column_ = std::max(max_column_, static_cast<int>(index));
    return static_cast<int>(index);
  }
  if (!required) return -1;
  if (header.empty())
    AISLE_DATA_FAIL(reader_.name(), ": no header line, so column '", key, "' must be given as a 0-based index");
  std::string have;
  for (const auto& h : header) have += (have.empty() ? "" : ", ") + h;
  AISLE_DATA_FAIL(reader_.name(), ": the header has no column '", key, "' (columns: ", have, ")");
}

void TableReader::reject(int col, const char* reason, int64_t rows) {
  const std::string name = column_name(col);
  ctx_.reject(name + " " + reason,
              where() + "column '" + name + "' (" + std::to_string(col) + "): " + quote_field((*this)[col]) + " " + reason,
              rows);
}

void TableReader::name(int col, std::string role) {
  if (names_.size() <= static_cast<size_t>(col)) names_.resize(static_cast<size_t>(col) + 1);
  names_[static_cast<size_t>(col)] = std::move(role);
}

bool TableReader::integer(int col, int64_t& out) {
  if (const char* why = parse_int64((*this)[col], out)) return reject(col, why), false;
  return true;
}

bool TableReader::number(int col, double& out) {
  if (const char* why = parse_double((*this)[col], out)) return reject(col, why), false;
  return true;
}

bool TableReader::value(int col, float& out) {
  if (const char* why = parse_float((*this)[col], out)) return reject(col, why), false;
  return true;
}

bool TableReader::time(int col, int64_t& out) {
  if (const char* why = parse_timestamp((*this)[col], out)) return reject(col, why), false;
  return true;
}

bool TableReader::text(int col, std::string_view& out) {
  std::string_view s = (*this)[col];
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return reject(col, "is empty"), false;
  out = s;
  return true;
}

void FirstItemText::offer(DatasetWriter& writer, int64_t item, std::string_view text) {
  const auto i = static_cast<size_t>(item);
  if (i >= described_.size()) described_.resize(i + 1, 0);
  if (described_[i]) return;
  word_tokens(text, scratch_, words_);
  if (words_.empty()) return;
  writer.item_tokens(feature_, item, words_);
  described_[i] = 1;
}

Dialect dialect_for(const ImportOptions& options, std::string delimiter, bool header) {
  Dialect d;
  d.delimiter = options.delimiter ? parse_delimiter(*options.delimiter) : std::move(delimiter);
  if (d.delimiter == "whitespace") {
    d.whitespace = true;
    d.delimiter = " ";
  }
  d.header = options.header.value_or(header);
  return d;
}

}  // namespace aisle::data::detail
