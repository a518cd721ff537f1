#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Conversions of one text field. Each returns nullptr on success, or the reason it failed as a
// static phrase ("is not an integer", "overflows a 64-bit integer", ...). The caller adds the
// file, line, column and the offending text, so the hot path never allocates. Surrounding spaces
// and tabs are ignored; an empty field is an error ("is empty").
namespace aisle::data {

const char* parse_int64(std::string_view text, int64_t& out);
// Finite decimal numbers only: NaN and infinities are rejected ("is not finite"), as are values
// outside the double range ("is out of range").
const char* parse_double(std::string_view text, double& out);
// Like parse_double, and the value must also fit a float (the dataset's value column).
const char* parse_float(std::string_view text, float& out);

// Seconds since the Unix epoch, from any of:
//   Unix seconds                       1290000000, -86400
//   YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][Z|±HH:MM]   2010-12-01 08:26:00, 2011-06-05T10:00:00Z
//   M/D/YYYY[ H:MM[:SS]]              12/1/2010 8:26 (Online Retail as exported by Excel)
// Times without an offset are taken as UTC (the sources give naive local times; only their
// order and spacing matter to models). Fractions of a second are dropped. Calendar fields are
// checked (month 1-12, day within the month, leap years, hour 0-23, minute and second 0-59).
const char* parse_timestamp(std::string_view text, int64_t& out);

// Days since 1970-01-01 of a proleptic Gregorian date (negative before it).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

// `text` made safe to quote in a one-line message and in meta.json: in single quotes, at most
// `limit` bytes (cut at a character boundary, then "..."), control bytes and bytes that are not
// valid UTF-8 (Latin-1 files) as '?'.
std::string quote_field(std::string_view text, size_t limit = 60);

// `s` without leading and trailing spaces and tabs.
std::string_view trim_blanks(std::string_view s);
// Valid UTF-8: every byte that is not part of a well-formed sequence becomes '?'.
std::string valid_utf8(std::string_view text);

// Lower-cased word tokens of a title or description (split at ASCII punctuation and blanks;
// bytes >= 0x80 stay in words so UTF-8 letters survive). `scratch` holds the lowered text. The
// importers' text features and the new items of `aisle add-items` are both split by it.
void word_tokens(std::string_view text, std::string& scratch, std::vector<std::string_view>& out);

}  // namespace aisle::data
