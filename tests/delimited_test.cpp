#include "aisle/data/delimited.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/data/fields.hpp"
#include "support/compress.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using Rows = std::vector<std::vector<std::string>>;

// Every record of `text` with its line and error, read `chunk` bytes at a time, so that record,
// quote, CRLF and delimiter boundaries fall at every position of the input.
struct Parsed {
  Rows rows;
  std::vector<int64_t> lines;
  std::vector<std::string> errors;  // "" when the record is fine, else "reason@field"
  std::vector<std::string> header;
  bool operator==(const Parsed&) const = default;
};

Parsed parse(const std::string& text, Dialect d = {}, size_t chunk = 1 << 20) {
  DelimitedReader r(std::make_unique<MemorySource>(text, chunk), "mem", std::move(d));
  Parsed p;
  while (r.next()) {
    p.rows.emplace_back(r.fields().begin(), r.fields().end());
    p.lines.push_back(r.line());
    p.errors.push_back(r.error() ? std::string(r.error()) + "@" +
                                       (r.error_field() == DelimitedReader::npos ? "row" : std::to_string(r.error_field()))
                                 : "");
  }
  p.header = r.header();
  return p;
}

// parse() at every chunk size from 1 to 9 and in one piece must agree.
Parsed parse_all_chunks(const std::string& text, const Dialect& d = {}) {
  const Parsed whole = parse(text, d);
  for (size_t chunk = 1; chunk <= 9; ++chunk) {
    const Parsed p = parse(text, d, chunk);
    EXPECT_TRUE(p == whole) << "chunk size " << chunk << " differs for:\n" << text;
  }
  return whole;
}

Dialect with(std::string delimiter, bool header = false) {
  Dialect d;
  d.delimiter = std::move(delimiter);
  d.header = header;
  return d;
}

TEST(Delimited, SplitsFieldsKeepingEmptyOnesAndCountsLines) {
  const Parsed p = parse_all_chunks("a,b,c\n1,,3\n\n,x,\n");
  EXPECT_EQ(p.rows, (Rows{{"a", "b", "c"}, {"1", "", "3"}, {"", "x", ""}}));
  EXPECT_EQ(p.lines, (std::vector<int64_t>{1, 2, 4}));  // the blank line 3 is skipped but counted
  EXPECT_EQ(p.errors, (std::vector<std::string>{"", "", ""}));
}

TEST(Delimited, QuotedFieldsHoldDelimitersNewlinesAndDoubledQuotes) {
  const std::string text =
      "536381,\"AIRLINE LOUNGE,METAL SIGN\",2\n"
      "536477,\"RECORD FRAME 7\"\" SINGLE SIZE \",48\n"
      "1,\"two\nlines\",3\n"
      "\"\",\"\"\"\",x\"y\n"
      "last,row,here\n";
  const Parsed p = parse_all_chunks(text);
  EXPECT_EQ(p.rows, (Rows{{"536381", "AIRLINE LOUNGE,METAL SIGN", "2"},
                          {"536477", "RECORD FRAME 7\" SINGLE SIZE ", "48"},
                          {"1", "two\nlines", "3"},
                          {"", "\"", "x\"y"},  // a quote inside an unquoted field is text
                          {"last", "row", "here"}}));
  EXPECT_EQ(p.lines, (std::vector<int64_t>{1, 2, 3, 5, 6}));  // the quoted newline moves later lines
  // Without quote handling the quotes are plain bytes.
  Dialect raw;
  raw.quotes = false;
  EXPECT_EQ(parse("a,\"b,c\"\n", raw).rows, (Rows{{"a", "\"b", "c\""}}));
}

TEST(Delimited, BomCrlfBlankLinesAndALastLineWithoutNewline) {
  const std::string text = "\xEF\xBB\xBFuserId,movieId\r\n\r\n1,\"2\"\r\n  \r\n3,4";
  const Parsed p = parse_all_chunks(text, with(",", true));
  EXPECT_EQ(p.header, (std::vector<std::string>{"userId", "movieId"}));  // no BOM bytes in the first name
  EXPECT_EQ(p.rows, (Rows{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(p.lines, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(parse_all_chunks("a\r").rows, (Rows{{"a"}}));
  EXPECT_EQ(parse_all_chunks("\"a\"\r").rows, (Rows{{"a"}}));
  EXPECT_EQ(parse_all_chunks("\"a\",\"b\"").rows, (Rows{{"a", "b"}}));
}

TEST(Delimited, MultiByteDelimitersAndWhitespaceMode) {
  const Parsed ml = parse_all_chunks("1::1193::5::978300760\n2::a:b::c:::d\n", with("::"));
  EXPECT_EQ(ml.rows, (Rows{{"1", "1193", "5", "978300760"}, {"2", "a:b", "c", ":d"}}));
  EXPECT_EQ(parse_all_chunks("x::\"a::b\"::y\n", with("::")).rows, (Rows{{"x", "a::b", "y"}}));
  EXPECT_EQ(parse_all_chunks("196\t242\t3\t881250949\n", with("\t")).rows, (Rows{{"196", "242", "3", "881250949"}}));
  Dialect ws;
  ws.whitespace = true;
  const Parsed p = parse_all_chunks("  0 1  2\t3 \r\n\n \t \n4\n5 \"6\"", ws);
  EXPECT_EQ(p.rows, (Rows{{"0", "1", "2", "3"}, {"4"}, {"5", "\"6\""}}));
  EXPECT_EQ(p.lines, (std::vector<int64_t>{1, 4, 5}));
}

TEST(Delimited, MalformedRecordsAreFlaggedAndReadingResumes) {
  const Parsed p = parse_all_chunks("id,name\n1,\"ok\"x,3\n2,fine\nid,name\n3,\"never closed\n4,lost\n",
                                    with(",", true));
  ASSERT_EQ(p.rows.size(), 4u);
  EXPECT_EQ(p.errors[0], "text after the closing quote of a quoted field@1");
  EXPECT_EQ(p.lines[0], 2);
  EXPECT_EQ(p.rows[1], (std::vector<std::string>{"2", "fine"}));
  EXPECT_EQ(p.errors[1], "");
  EXPECT_EQ(p.errors[2], "a repeated header line@row");
  EXPECT_EQ(p.lines[2], 4);
  EXPECT_EQ(p.errors[3], "a quoted field is never closed (it runs to the end of the input)@1");
  EXPECT_EQ(p.lines[3], 5);
}

TEST(Delimited, EmptyInputsAndOverlongRecords) {
  EXPECT_TRUE(parse("").rows.empty());
  EXPECT_TRUE(parse("\n\r\n  \n").rows.empty());
  EXPECT_TRUE(parse("\xEF\xBB\xBF", with(",", true)).header.empty());
  Dialect small;
  small.max_record_bytes = 64;
  EXPECT_EQ(parse(std::string(63, 'a') + "\nb\n", small).rows.size(), 2u);
  const std::string message = testing::error_message([&] { parse("ok\n\"" + std::string(200, 'x'), small, 7); });
  EXPECT_MESSAGE_HAS(message, "mem:2: a record longer than 64 bytes");
  EXPECT_THROW(DelimitedReader(std::make_unique<MemorySource>(""), "x", with("\"")), Error);
}

TEST(Delimited, ReadsPlainXzAndGzipFilesAlike) {
  TempDir tmp;
  std::string text = "user,item\n";
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + ",\"item " + std::to_string(i * 7) + "\"\n";
  testing::write_file(tmp / "a.csv", text);
  testing::write_file(tmp / "a.csv.xz", testing::xz_bytes(text));
  testing::write_file(tmp / "a.gz.data", testing::gz_bytes(text));  // detected by content, not name
  testing::write_file(tmp / "two.gz", testing::gz_bytes("user,item\n1,2\n") + testing::gz_bytes("3,4\n"));
  for (const char* name : {"a.csv", "a.csv.xz", "a.gz.data"}) {
    DelimitedReader r(tmp / name, with(",", true));
    int64_t n = 0;
    while (r.next()) {
      ASSERT_EQ(r[1], "item " + std::to_string(n * 7)) << name;
      ++n;
    }
    EXPECT_EQ(n, 20000) << name;
    EXPECT_EQ(r.bytes(), text.size()) << name;
  }
  DelimitedReader two(tmp / "two.gz", with(",", true));
  int rows = 0;
  while (two.next()) ++rows;
  EXPECT_EQ(rows, 2) << "every member of a multi-member .gz is read";

  std::string xz = testing::xz_bytes(text);
  testing::write_file(tmp / "cut.xz", xz.substr(0, xz.size() / 2));
  xz[xz.size() / 2] = static_cast<char>(xz[xz.size() / 2] ^ 0x55);
  testing::write_file(tmp / "bad.xz", xz);
  const std::string gz = testing::gz_bytes(text);
  testing::write_file(tmp / "cut.gz", gz.substr(0, gz.size() / 2));
  auto read_all = [&](const char* name) {
    return testing::error_message([&] {
      DelimitedReader r(tmp / name);
      while (r.next()) {
      }
    });
  };
  EXPECT_MESSAGE_HAS(read_all("cut.xz"), "cut.xz: the xz data is truncated");
  EXPECT_MESSAGE_HAS(read_all("bad.xz"), "bad.xz: the xz data is corrupt");
  EXPECT_MESSAGE_HAS(read_all("cut.gz"), "cut.gz: the gzip data is truncated");
  EXPECT_MESSAGE_HAS(read_all("missing.csv"), "missing.csv: cannot open: No such file or directory");
  EXPECT_THROW(DelimitedReader(tmp / "missing.csv"), DataError);
}

TEST(Fields, IntegersDetectOverflowAndJunk) {
  int64_t v = 0;
  EXPECT_EQ(parse_int64("42", v), nullptr);
  EXPECT_EQ(v, 42);
  EXPECT_EQ(parse_int64(" +7\t", v), nullptr);
  EXPECT_EQ(v, 7);
  EXPECT_EQ(parse_int64("-9223372036854775808", v), nullptr);
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_STREQ(parse_int64("9223372036854775808", v), "overflows a 64-bit integer");
  EXPECT_STREQ(parse_int64("-99999999999999999999", v), "overflows a 64-bit integer");
  for (const char* bad : {"12a", "1.5", "0x10", "--1", "+", "one"}) EXPECT_STREQ(parse_int64(bad, v), "is not an integer") << bad;
  EXPECT_STREQ(parse_int64("  ", v), "is empty");
}

TEST(Fields, NumbersMustBeFinite) {
  double d = 0;
  EXPECT_EQ(parse_double("2.5", d), nullptr);
  EXPECT_EQ(d, 2.5);
  EXPECT_EQ(parse_double("-1e-3", d), nullptr);
  EXPECT_EQ(d, -1e-3);
  for (const char* bad : {"nan", "NaN", "-nan", "inf", "-Infinity"}) EXPECT_STREQ(parse_double(bad, d), "is not finite") << bad;
  EXPECT_STREQ(parse_double("1e400", d), "is out of range");
  EXPECT_STREQ(parse_double("4 stars", d), "is not a number");
  EXPECT_STREQ(parse_double("", d), "is empty");
  float f = 0;
  EXPECT_EQ(parse_float("3.5", f), nullptr);
  EXPECT_EQ(f, 3.5f);
  EXPECT_STREQ(parse_float("1e39", f), "is out of range for a float");
}

TEST(Fields, TimestampsFromSecondsAndDates) {
  int64_t t = 0;
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(parse_timestamp("881250949", t), nullptr);
  EXPECT_EQ(t, 881250949);
  // 2010-12-01 08:26 UTC = 14944 days + 8 h 26 min.
  const int64_t invoice = 14944LL * 86400 + 8 * 3600 + 26 * 60;
  for (const char* s : {"2010-12-01 08:26:00", "2010-12-01 08:26", "12/1/2010 8:26", "12/01/2010 08:26:00",
                        "2010-12-01T08:26:00Z", "2010-12-01T09:26:00+01:00", "2010-12-01T03:26:00.250-0500"}) {
    EXPECT_EQ(parse_timestamp(s, t), nullptr) << s;
    EXPECT_EQ(t, invoice) << s;
  }
  EXPECT_EQ(parse_timestamp("2012-02-29", t), nullptr);
  EXPECT_EQ(t, 15399LL * 86400);
  EXPECT_STREQ(parse_timestamp("2011-02-29", t), "is not a valid calendar date");
  EXPECT_STREQ(parse_timestamp("2010-13-01", t), "is not a valid calendar date");
  EXPECT_STREQ(parse_timestamp("2010-12-01 24:00", t), "is not a valid time of day");
  for (const char* bad : {"yesterday", "2010-12-01 8", "2010/12/01", "12/1/10 8:26", "2010-12-01T08:26:00Zx", "1e9"})
    EXPECT_NE(std::string(parse_timestamp(bad, t) ? parse_timestamp(bad, t) : "").find("is not a date"), std::string::npos)
        << bad;
  EXPECT_STREQ(parse_timestamp("99999999999999999999", t), "overflows a 64-bit integer");
  EXPECT_EQ(quote_field(std::string("a\tb\nc") + std::string(70, 'x'), 10), "'a?b?cxxxxx...'");
  // Latin-1 and broken UTF-8 become '?', whole characters are kept, a cut never splits one.
  EXPECT_EQ(quote_field("caf\xE9 \xC2\xA3""5 \xE2\x82\xAC"), "'caf? \xC2\xA3""5 \xE2\x82\xAC'");
  EXPECT_EQ(quote_field("ab\xE2\x82\xAC", 4), "'ab...'");
  EXPECT_EQ(valid_utf8("\xED\xA0\x80 \xC0\xAF \xF0\x9F\x98\x80"), "??? ?? \xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace aisle::data
