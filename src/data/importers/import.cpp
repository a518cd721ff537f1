// import_dataset: checks the request, runs the format's importer into a DatasetWriter and
// finishes the dataset (atomically: a failure leaves no output directory).
#include <chrono>
#include <functional>

#include "aisle/core/error.hpp"
#include "aisle/data/dataset.hpp"
#include "aisle/data/dataset_writer.hpp"
#include "src/data/importers/formats.hpp"

namespace aisle::data {

namespace fs = std::filesystem;

namespace {

struct Format {
  FormatInfo info;
  std::function<void(detail::ImportContext&)> run;
};

const std::vector<Format>& formats() {
  static const std::vector<Format> list = [] {
    std::vector<Format> f;
    auto movielens = [&](const char* name, const char* what) {
      f.push_back({{name, what}, [name](detail::ImportContext& c) { detail::import_movielens(c, name); }});
    };
    movielens("movielens-100k", "MovieLens 100K u.data: user<TAB>item<TAB>rating<TAB>timestamp");
    movielens("movielens-1m", "MovieLens 1M ratings.dat: user::item::rating::timestamp");
    movielens("movielens-10m", "MovieLens 10M ratings.dat: user::item::rating::timestamp");
    movielens("movielens-20m", "MovieLens 20M ratings.csv: header userId,movieId,rating,timestamp");
    movielens("movielens-25m", "MovieLens 25M ratings.csv: header userId,movieId,rating,timestamp");
    f.push_back({{"lightgcn", "LightGCN/NGCF train.txt/test.txt: user item item ... per line"}, detail::import_lightgcn});
    f.push_back({{"sasrec", "SASRec: user item per line, each user's items in time order"}, detail::import_sasrec});
    f.push_back({{"s3rec", "S3-Rec: user item item ... per line, in time order"}, detail::import_s3rec});
    f.push_back({{"online-retail", "UCI Online Retail CSV (InvoiceNo,StockCode,...,CustomerID,Country)"},
                 detail::import_online_retail});
    f.push_back({{"retailrocket", "RetailRocket events.csv: timestamp(ms),visitorid,event,itemid,transactionid"},
                 detail::import_retailrocket});
    f.push_back({{"delimited", "any delimited file with --map user=COL,item=COL,..."}, detail::import_mapped});
    return f;
  }();
  return list;
}

const Format& find_format(const std::string& name) {
  std::string names;
  for (const Format& f : formats()) {
    if (f.info.name == name) return f;
    names += (names.empty() ? "" : ", ") + f.info.name;
  }
  AISLE_FAIL("unknown import format '", name, "' (formats: ", names, ")");
}

DatasetSource source_of(const ImportOptions& o) {
  DatasetSource s{o.format, {}, {}};
  for (const auto& in : o.inputs) s.inputs.push_back(in.string());
  if (!o.valid.empty()) s.inputs.push_back(o.valid.string()), s.parameters.push_back("valid=" + o.valid.string());
  if (!o.test.empty()) s.inputs.push_back(o.test.string()), s.parameters.push_back("test=" + o.test.string());
  s.parameters.push_back(std::string("on_error=") + (o.on_error == OnError::skip ? "skip" : "fail"));
  if (o.delimiter) s.parameters.push_back("delimiter=" + *o.delimiter);
  if (o.header) s.parameters.push_back(std::string("header=") + (*o.header ? "yes" : "no"));
  for (const auto& [role, col] : o.columns) s.parameters.push_back("map." + role + "=" + col);
  return s;
}

}  // namespace

const std::vector<FormatInfo>& import_formats() {
  static const std::vector<FormatInfo> list = [] {
    std::vector<FormatInfo> l;
    for (const Format& f : formats()) l.push_back(f.info);
    return l;
  }();
  return list;
}

ImportResult import_dataset(const ImportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const Format& format = find_format(options.format);
  AISLE_CHECK(!options.inputs.empty(), "import: no --input file");
  AISLE_CHECK(!options.out.empty(), "import: no --out directory");
  AISLE_CHECK(options.columns.empty() || options.format == "delimited",
              "import: --map is for --format delimited; ", options.format, " knows its columns");
  if (options.delimiter) parse_delimiter(*options.delimiter);  // rejects unusable ones before any work
  // Missing inputs are reported before anything is created.
  std::vector<fs::path> all = options.inputs;
  for (const auto* p : {&options.valid, &options.test})
    if (!p->empty()) all.push_back(*p);
  for (const auto& p : all) {
    std::error_code ec;
    AISLE_DATA_CHECK(fs::exists(p, ec), p.string(), ": no such file");
    AISLE_DATA_CHECK(!fs::is_directory(p, ec), p.string(), ": is a directory, not a file");
  }

  DatasetWriter writer(options.out, options.overwrite);
  detail::ImportContext ctx(options, writer);
  format.run(ctx);
  AISLE_DATA_CHECK(ctx.report.rows_kept > 0, "import: no rows kept from ", ctx.report.rows_read, " rows read\n",
                   ctx.report.summary());
  ImportResult result;
  result.out = fs::absolute(options.out).lexically_normal();
  result.report = ctx.report;
  result.input_bytes = ctx.bytes;
  writer.finish(source_of(options), ctx.report);
  const Dataset dataset = Dataset::open(result.out);
  result.interactions = dataset.num_interactions();
  result.users = dataset.num_users();
  result.items = dataset.num_items();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::map<std::string, std::string> parse_column_map(std::string_view text) {
  static const char* const kRoles[] = {"user", "item", "rating", "weight", "timestamp",
                                       "event", "category", "brand", "price", "text"};
  std::map<std::string, std::string> map;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const size_t eq = entry.find('=');
    AISLE_CHECK(eq != std::string_view::npos && eq > 0 && eq + 1 < entry.size(), "--map: '", entry,
                "' is not role=COLUMN");
    const std::string role(entry.substr(0, eq));
    bool known = false;
    for (const char* r : kRoles) known = known || role == r;
    AISLE_CHECK(known, "--map: unknown role '", role,
                "' (roles: user, item, rating, weight, timestamp, event, category, brand, price, text)");
    AISLE_CHECK(map.emplace(role, std::string(entry.substr(eq + 1))).second, "--map: role '", role, "' given twice");
  }
  return map;
}

std::string parse_delimiter(std::string_view text) {
  if (text == "whitespace" || text == "ws") return "whitespace";
  if (text == "\\t" || text == "tab" || text == "\t") return "\t";
  if (text == "space") return " ";
  if (text == "comma") return ",";
  if (text == "semicolon") return ";";
  if (text == "pipe") return "|";
  AISLE_CHECK(!text.empty(), "--delimiter: empty");
  AISLE_CHECK(text.find_first_of("\"\r\n") == std::string_view::npos, "--delimiter: cannot contain quotes or line ends");
  return std::string(text);
}

}  // namespace aisle::data
