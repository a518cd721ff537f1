#include "aisle/data/fields.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace aisle::data {

namespace {

// from_chars takes no '+'; "+5" is still a number people write.
std::string_view drop_plus(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A tiny cursor for the date grammars: fixed-width or bounded-width digit runs and literals.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i == s.size(); }
  bool peek(char c) const { return i < s.size() && s[i] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i;
    return true;
  }
  // Between min_digits and max_digits decimal digits; unless `joined`, no digit may follow
  // (offsets such as -0500 run hours and minutes together).
  bool number(int min_digits, int max_digits, int& out, bool joined = false) {
    int n = 0, v = 0;
    while (n < max_digits && i < s.size() && is_digit(s[i])) v = v * 10 + (s[i++] - '0'), ++n;
    out = v;
    return n >= min_digits && (joined || !(i < s.size() && is_digit(s[i])));
  }
};

struct DateTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset_minutes = 0;
};

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// HH:MM[:SS[.fff]]
bool time_of_day(Cursor& c, DateTime& t, bool fraction) {
  if (!c.number(1, 2, t.hour) || !c.eat(':') || !c.number(2, 2, t.minute)) return false;
  if (c.eat(':')) {
    if (!c.number(2, 2, t.second)) return false;
    if (fraction && c.eat('.')) {
      int ignored = 0;
      if (!c.number(1, 9, ignored)) return false;
    }
  }
  return true;
}

bool iso(std::string_view s, DateTime& t) {
  Cursor c{s};
  if (!c.number(4, 4, t.year) || !c.eat('-') || !c.number(1, 2, t.month) || !c.eat('-') || !c.number(1, 2, t.day))
    return false;
  if (c.done()) return true;
  if (!c.eat(' ') && !c.eat('T')) return false;
  if (!time_of_day(c, t, true)) return false;
  if (c.eat('Z')) return c.done();
  if (c.peek('+') || c.peek('-')) {
    const int sign = c.s[c.i++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!c.number(2, 2, oh, true)) return false;
    c.eat(':');
    if (!c.number(2, 2, om) || oh > 23 || om > 59) return false;
    t.offset_minutes = sign * (oh * 60 + om);
  }
  return c.done();
}

bool month_day_year(std::string_view s, DateTime& t) {
  Cursor c{s};
  if (!c.number(1, 2, t.month) || !c.eat('/') || !c.number(1, 2, t.day) || !c.eat('/') || !c.number(4, 4, t.year))
    return false;
  if (c.done()) return true;
  if (!c.eat(' ') || !time_of_day(c, t, false)) return false;
  return c.done();
}

}  // namespace

const char* parse_int64(std::string_view text, int64_t& out) {
  const std::string_view s = drop_plus(trim_blanks(text));
  if (s.empty()) return "is empty";
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) return "overflows a 64-bit integer";
  if (ec != std::errc() || end != s.data() + s.size()) return "is not an integer";
  return nullptr;
}

const char* parse_double(std::string_view text, double& out) {
  const std::string_view s = drop_plus(trim_blanks(text));
  if (s.empty()) return "is empty";
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) return "is out of range";
  if (ec != std::errc() || end != s.data() + s.size()) return "is not a number";
  if (!std::isfinite(out)) return "is not finite";
  return nullptr;
}

const char* parse_float(std::string_view text, float& out) {
  double d = 0;
  if (const char* why = parse_double(text, d)) return why;
  if (std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) return "is out of range for a float";
  out = static_cast<float>(d);
  return nullptr;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // H. Hinnant's algorithm: shift the year to start in March so leap days fall at its end.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

const char* parse_timestamp(std::string_view text, int64_t& out) {
  const std::string_view s = trim_blanks(text);
  if (s.empty()) return "is empty";
  const std::string_view digits = drop_plus(s[0] == '-' ? s.substr(1) : s);
  if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos)
    return parse_int64(s, out);
  DateTime t;
  if (!iso(s, t) && !month_day_year(s, t))
    return "is not a date (expected Unix seconds, YYYY-MM-DD[ HH:MM[:SS]], ISO 8601 or M/D/YYYY H:MM)";
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month))
    return "is not a valid calendar date";
  if (t.hour > 23 || t.minute > 59 || t.second > 59) return "is not a valid time of day";
  out = days_from_civil(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day)) * 86400 +
        t.hour * 3600 + t.minute * 60 + t.second - t.offset_minutes * 60;
  return nullptr;
}

namespace {
// Length of the well-formed UTF-8 sequence at s[i], or 0 (RFC 3629: no overlongs, no surrogates).
size_t utf8_length(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (i + n > s.size() || at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  return n;
}
}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string quote_field(std::string_view text, size_t limit) {
  std::string q = "'";
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = utf8_length(text, i);
    if (i + std::max<size_t>(n, 1) > limit) break;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (n == 0 || c < 0x20 || c == 0x7F) {
      q += '?';
      ++i;
    } else {
      q.append(text.substr(i, n));
      i += n;
    }
  }
  if (i < text.size()) q += "...";
  q += "'";
  return q;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void word_tokens(std::string_view text, std::string& scratch, std::vector<std::string_view>& out) {
  scratch.assign(text);
  out.clear();
  size_t start = std::string::npos;
  for (size_t i = 0; i <= scratch.size(); ++i) {
    const unsigned char c = i < scratch.size() ? static_cast<unsigned char>(scratch[i]) : ' ';
    const bool word = c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (word) {
      if (c >= 'A' && c <= 'Z') scratch[i] = static_cast<char>(c - 'A' + 'a');
      if (start == std::string::npos) start = i;
    } else if (start != std::string::npos) {
      out.emplace_back(scratch.data() + start, i - start);
      start = std::string::npos;
    }
  }
}

}  // namespace aisle::data
