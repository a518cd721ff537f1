#include "aisle/data/delimited.hpp"

#include <algorithm>
#include <cstring>

#include "aisle/core/error.hpp"

// Kept free of everything but the standard library and error.hpp: tools/fuzz compiles this file
// directly with clang and the sanitizers.
namespace aisle::data {

namespace {
constexpr size_t kChunk = size_t{1} << 20;
bool blank_byte(char c) { return c == ' ' || c == '\t'; }
}  // namespace

DelimitedReader::DelimitedReader(std::unique_ptr<ByteSource> source, std::string name, Dialect dialect)
    : source_(std::move(source)), name_(std::move(name)), dialect_(std::move(dialect)) {
  AISLE_CHECK(source_ != nullptr, name_, ": no input");
  AISLE_CHECK(dialect_.whitespace || !dialect_.delimiter.empty(), name_, ": empty delimiter");
  AISLE_CHECK(dialect_.whitespace || dialect_.delimiter.find_first_of("\"\r\n") == std::string::npos, name_,
              ": a delimiter cannot contain quotes or line ends");
  if (dialect_.whitespace) dialect_.quotes = false;
  dialect_.max_record_bytes = std::max<size_t>(dialect_.max_record_bytes, 16);
  buf_.resize(std::min(kChunk, dialect_.max_record_bytes));
}

DelimitedReader::~DelimitedReader() = default;
DelimitedReader::DelimitedReader(DelimitedReader&&) noexcept = default;

void DelimitedReader::refill() {
  const size_t keep = end_ - pos_;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, keep);
    pos_ = 0;
    end_ = keep;
  }
  if (end_ == buf_.size()) {  // one unfinished record fills the buffer
    AISLE_DATA_CHECK(buf_.size() < dialect_.max_record_bytes, name_, ":", line_, ": a record longer than ",
                     dialect_.max_record_bytes, " bytes (a quote that is never closed?)");
    buf_.resize(std::min(buf_.size() * 2, dialect_.max_record_bytes));
  }
  const size_t got = source_->read(buf_.data() + end_, buf_.size() - end_);
  if (got == 0) eof_ = true;
  end_ += got;
}

void DelimitedReader::skip_bom() {
  while (end_ < 3 && !eof_) refill();
  if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) {
    pos_ = 3;
    consumed_ = 3;
  }
}

void DelimitedReader::flag(const char* why, size_t field) {
  if (error_) return;  // the first problem is the one reported
  error_ = why;
  error_field_ = field;
}

// 1: a delimiter starts at p; 0: not; -1: cannot tell before more input arrives.
int DelimitedReader::delimiter_at(const char* p, const char* end, bool eof) const {
  const std::string& d = dialect_.delimiter;
  if (*p != d[0]) return 0;
  if (static_cast<size_t>(end - p) < d.size()) return eof ? 0 : -1;
  return std::memcmp(p, d.data(), d.size()) == 0 ? 1 : 0;
}

// Splits one line that holds no quotes. Most records take this path.
void DelimitedReader::split_line(const char* p, const char* end) {
  if (dialect_.whitespace) {
    for (;;) {
      while (p < end && blank_byte(*p)) ++p;
      if (p == end) return;
      const char* start = p;
      while (p < end && !blank_byte(*p)) ++p;
      fields_.emplace_back(start, static_cast<size_t>(p - start));
    }
  }
  const std::string& d = dialect_.delimiter;
  for (;;) {
    const char* hit = p;
    for (;;) {
      hit = static_cast<const char*>(std::memchr(hit, d[0], static_cast<size_t>(end - hit)));
      if (!hit || (static_cast<size_t>(end - hit) >= d.size() && std::memcmp(hit, d.data(), d.size()) == 0)) break;
      ++hit;
    }
    if (!hit) {
      fields_.emplace_back(p, static_cast<size_t>(end - p));
      return;
    }
    fields_.emplace_back(p, static_cast<size_t>(hit - p));
    p = hit + d.size();
  }
}

// The RFC 4180 grammar, for records that contain a quote. A quote opens a quoted field only at
// the start of a field; inside it "" is one quote and delimiters and newlines are data. With
// Emit = false it only finds where the record ends (nullptr: more input is needed); with Emit =
// true, run on a complete record, it stores the fields, unquoting them in place (the text only
// shrinks, so the write cursor never passes the read cursor). Returns the end of the record.
template <bool Emit>
char* DelimitedReader::quoted_record(char* p, char* end, bool eof, int64_t& newlines) {
  const size_t dl = dialect_.delimiter.size();
  for (;;) {
    if (p < end && *p == '"') {
      char* const start = p;
      char* w = p;
      for (++p;; ++p) {
        if (p == end) {
          if (!eof) return nullptr;
          if constexpr (Emit) {
            fields_.emplace_back(start, static_cast<size_t>(w - start));
            flag("a quoted field is never closed (it runs to the end of the input)", fields_.size() - 1);
          }
          return end;
        }
        if (*p == '"') {
          if (p + 1 == end && !eof) return nullptr;
          if (p + 1 == end || p[1] != '"') break;
          ++p;  // a doubled quote stands for one
        } else if (*p == '\n') {
          ++newlines;
        }
        if constexpr (Emit) *w++ = *p;
      }
      ++p;  // past the closing quote
      if constexpr (Emit) fields_.emplace_back(start, static_cast<size_t>(w - start));
      if (p == end) return eof ? end : nullptr;
      const int delim = delimiter_at(p, end, eof);
      if (delim < 0) return nullptr;
      if (delim > 0) {
        p += dl;
        continue;
      }
      if (*p == '\n') return ++newlines, p + 1;
      if (*p == '\r') {
        if (p + 1 == end) return eof ? end : nullptr;
        if (p[1] == '\n') return ++newlines, p + 2;
      }
      if constexpr (Emit) flag("text after the closing quote of a quoted field", fields_.size() - 1);
      char* nl = static_cast<char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (!nl) return eof ? end : nullptr;
      return ++newlines, nl + 1;
    }
    char* const start = p;
    for (;; ++p) {
      if (p == end || *p == '\n') {
        if (p == end && !eof) return nullptr;
        char* e = p;
        if (e > start && e[-1] == '\r') --e;
        if constexpr (Emit) fields_.emplace_back(start, static_cast<size_t>(e - start));
        if (p == end) return end;
        return ++newlines, p + 1;
      }
      const int delim = delimiter_at(p, end, eof);
      if (delim < 0) return nullptr;
      if (delim > 0) break;
    }
    if constexpr (Emit) fields_.emplace_back(start, static_cast<size_t>(p - start));
    p += dl;
  }
}

DelimitedReader::Scan DelimitedReader::scan_record() {
  char* const base = buf_.data();
  char* const p = base + pos_;
  char* const end = base + end_;
  char* nl = static_cast<char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
  if (!nl && !eof_) return Scan::need_more;
  char* next = nl ? nl + 1 : end;
  char* line_end = nl ? nl : end;
  if (line_end > p && line_end[-1] == '\r') --line_end;
  fields_.clear();
  error_ = nullptr;
  error_field_ = npos;
  record_line_ = line_;

  const char* first = p;
  while (first < line_end && blank_byte(*first)) ++first;
  if (first == line_end) {
    line_ += nl ? 1 : 0;
  } else if (dialect_.quotes && std::memchr(p, '"', static_cast<size_t>(line_end - p))) {
    int64_t newlines = 0;
    next = quoted_record<false>(p, end, eof_, newlines);
    if (!next) return Scan::need_more;
    newlines = 0;
    quoted_record<true>(p, next, true, newlines);
    line_ += newlines;
  } else {
    split_line(p, line_end);
    line_ += nl ? 1 : 0;
  }
  consumed_ += static_cast<uint64_t>(next - p);
  pos_ = static_cast<size_t>(next - base);
  return fields_.empty() ? Scan::blank : Scan::record;
}

void DelimitedReader::start() {
  if (started_) return;
  started_ = true;
  skip_bom();
  if (dialect_.header && next()) {
    AISLE_DATA_CHECK(!error_, name_, ":", record_line_, ": the header line is malformed: ", error_);
    header_.assign(fields_.begin(), fields_.end());
    records_ = 0;  // the header is not a data record
  }
}

bool DelimitedReader::next() {
  start();
  for (;;) {
    if (pos_ == end_) {
      if (eof_) return false;
      refill();
      continue;
    }
    const Scan s = scan_record();
    if (s == Scan::need_more) {
      refill();
      continue;
    }
    if (s == Scan::blank) continue;
    if (!header_.empty() && fields_.size() == header_.size() && !error_ &&
        std::equal(fields_.begin(), fields_.end(), header_.begin()))
      flag("a repeated header line", npos);
    ++records_;
    return true;
  }
}

}  // namespace aisle::data
