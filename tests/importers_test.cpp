#include "aisle/data/importers.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/data/dataset.hpp"
#include "support/compress.hpp"
#include "support/temp_dir.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using nlohmann::json;
using I64 = std::vector<int64_t>;
using F32 = std::vector<float>;
using U8 = std::vector<uint8_t>;

// Writes `text` to DIR/name and returns the path.
fs::path fixture(const TempDir& tmp, const std::string& name, const std::string& text) {
  testing::write_file(tmp / name, text);
  return tmp / name;
}

ImportOptions options(const std::string& format, std::vector<fs::path> inputs, const fs::path& out) {
  ImportOptions o;
  o.format = format;
  o.inputs = std::move(inputs);
  o.out = out;
  return o;
}

// External ids of the dense ids in `column`, in row order.
std::vector<std::string> externals(const IdMap& ids, const Tensor& column) {
  std::vector<std::string> out;
  for (int64_t id : column.to_vector<int64_t>()) out.push_back(ids.external(id));
  return out;
}

using Strings = std::vector<std::string>;

std::string import_error(const ImportOptions& o) { return testing::error_message([&] { import_dataset(o); }); }

json meta_of(const Dataset& d) { return json::parse(d.meta_text()); }

// ---- round trips, one per format ---------------------------------------------------------

TEST(Importers, MovieLens100kRoundTripsFromPlainXzAndGzip) {
  TempDir tmp;
  const std::string text = "196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n22\t377\t1\t878887116\n196\t302\t5\t881251000\n";
  fixture(tmp, "u.data", text);
  testing::write_file(tmp / "u.data.xz", testing::xz_bytes(text));
  testing::write_file(tmp / "u.data.gz", testing::gz_bytes(text));
  for (const char* name : {"u.data", "u.data.xz", "u.data.gz"}) {
    const fs::path out = tmp / (std::string("ml-") + name);
    const ImportResult r = import_dataset(options("movielens-100k", {tmp / name}, out));
    EXPECT_EQ(r.report.rows_read, 4);
    EXPECT_EQ(r.report.rows_kept, 4);
    EXPECT_EQ(r.input_bytes, text.size());
    const Dataset d = Dataset::open(out, true);
    EXPECT_EQ(d.num_interactions(), 4);
    EXPECT_EQ(d.num_users(), 3);
    EXPECT_EQ(d.num_items(), 3);
    const Interactions x = d.interactions();
    EXPECT_EQ(externals(d.user_ids(), x.users), (Strings{"196", "186", "22", "196"}));
    EXPECT_EQ(externals(d.item_ids(), x.items), (Strings{"242", "302", "377", "302"}));
    EXPECT_EQ(x.values.to_vector<float>(), (F32{3, 3.5f, 1, 5}));
    EXPECT_EQ(x.timestamps.to_vector<int64_t>(), (I64{881250949, 891717742, 878887116, 881251000}));
    EXPECT_EQ(x.events.to_vector<uint8_t>(), (U8{4, 4, 4, 4}));
    EXPECT_EQ(x.parts.to_vector<uint8_t>(), (U8{0, 0, 0, 0}));
    const json meta = meta_of(d);
    EXPECT_EQ(meta["source"]["format"], "movielens-100k");
    EXPECT_EQ(meta["source"]["inputs"][0]["sha256"], sha256_file(tmp / name));
    EXPECT_EQ(meta["import_report"]["rows_read"], 4);
  }
}

TEST(Importers, MovieLens1mAnd20mWithTheirDelimitersAndHeader) {
  TempDir tmp;
  const fs::path dat = fixture(tmp, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
  const ImportResult r = import_dataset(options("movielens-1m", {dat}, tmp / "ml1m"));
  EXPECT_EQ(r.users, 2);
  EXPECT_EQ(r.items, 2);
  const Dataset d1 = Dataset::open(tmp / "ml1m");
  EXPECT_EQ(externals(d1.item_ids(), d1.interactions().items), (Strings{"1193", "661", "1193"}));
  EXPECT_EQ(d1.interactions().values.to_vector<float>(), (F32{5, 3, 4}));

  // 20M: a header names the columns (here in another order), half stars, a BOM and CRLF.
  const fs::path csv = fixture(tmp, "ratings.csv",
                               "\xEF\xBB\xBFmovieId,userId,timestamp,rating\r\n31,1,1260759144,2.5\r\n1029,1,1260759179,0.5\r\n"
                               "31,7,1260759185,5.0");
  import_dataset(options("movielens-20m", {csv}, tmp / "ml20m"));
  const Dataset d20 = Dataset::open(tmp / "ml20m");
  const Interactions x = d20.interactions();
  EXPECT_EQ(externals(d20.user_ids(), x.users), (Strings{"1", "1", "7"}));
  EXPECT_EQ(externals(d20.item_ids(), x.items), (Strings{"31", "1029", "31"}));
  EXPECT_EQ(x.values.to_vector<float>(), (F32{2.5f, 0.5f, 5}));
  EXPECT_EQ(x.timestamps.to_vector<int64_t>(), (I64{1260759144, 1260759179, 1260759185}));
}

TEST(Importers, LightGcnKeepsIdsAndMarksTrainValidTest) {
  TempDir tmp;
  ImportOptions o = options("lightgcn", {fixture(tmp, "train.txt", "0 0 1 2\n1 3 1\n2\n")}, tmp / "lg");
  o.valid = fixture(tmp, "valid.txt", "0 4\n");
  o.test = fixture(tmp, "test.txt", "0 5 6\n1 0 \n");
  const ImportResult r = import_dataset(o);
  EXPECT_EQ(r.report.rows_read, 9);  // a line of k items is k rows; "2" alone is none
  EXPECT_EQ(r.report.rows_kept, 9);
  const Dataset d = Dataset::open(tmp / "lg");
  const Interactions x = d.interactions();
  EXPECT_EQ(externals(d.user_ids(), x.users), (Strings{"0", "0", "0", "1", "1", "0", "0", "0", "1"}));
  EXPECT_EQ(externals(d.item_ids(), x.items), (Strings{"0", "1", "2", "3", "1", "4", "5", "6", "0"}));
  EXPECT_EQ(x.parts.to_vector<uint8_t>(), (U8{1, 1, 1, 1, 1, 2, 3, 3, 3}));
  EXPECT_EQ(x.events.to_vector<uint8_t>(), (U8(9, 0)));
  EXPECT_EQ(x.timestamps.to_vector<int64_t>(), (I64(9, 0)));
  EXPECT_EQ(d.num_users(), 2) << "a user without items is no entity";
  EXPECT_EQ(meta_of(d)["source"]["inputs"].size(), 3u);
}

TEST(Importers, SequencesGetTheirPositionsAsTimestamps) {
  TempDir tmp;
  // SASRec: users' lines need not be contiguous; positions count per user and go on into --test.
  ImportOptions o = options("sasrec", {fixture(tmp, "Video.txt", "1 10\n1 11\n2 10\n1 12\n")}, tmp / "sas");
  o.test = fixture(tmp, "test.txt", "1 13\n2 14\n");
  import_dataset(o);
  const Dataset s = Dataset::open(tmp / "sas");
  EXPECT_EQ(externals(s.user_ids(), s.interactions().users), (Strings{"1", "1", "2", "1", "1", "2"}));
  EXPECT_EQ(s.interactions().timestamps.to_vector<int64_t>(), (I64{1, 2, 1, 3, 4, 2}));
  EXPECT_EQ(s.interactions().parts.to_vector<uint8_t>(), (U8{1, 1, 1, 1, 3, 3}));

  import_dataset(options("s3rec", {fixture(tmp, "Beauty.txt", "1 1 2 3\n2 4 2\n")}, tmp / "s3"));
  const Dataset b = Dataset::open(tmp / "s3");
  EXPECT_EQ(externals(b.item_ids(), b.interactions().items), (Strings{"1", "2", "3", "4", "2"}));
  EXPECT_EQ(b.interactions().timestamps.to_vector<int64_t>(), (I64{1, 2, 3, 1, 2}));
  EXPECT_EQ(b.num_items(), 4);
}

// The UCI columns, with every rule, quoted descriptions and both date forms.
const char* const kRetail =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
    "536381,82567,\"AIRLINE LOUNGE,METAL SIGN\",2,12/1/2010 9:41,2.1,15311,United Kingdom\n"
    "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n"
    "536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom\n"
    "536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,2010-12-01 14:32:00,2.51,,United Kingdom\n"
    "536589,21777,RECIPE BOX WITH METAL HEART,-10,2010-12-01 16:50:00,0,16000,United Kingdom\n"
    "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,-11062.06,12346,United Kingdom\n"
    "536477,85123A,\"RECORD FRAME 7\"\" SINGLE\",48,2010-12-01 12:27:00,2.1,17850.0,France\n";

TEST(Importers, OnlineRetailAppliesItsRulesAndKeepsPricesAndRevenue) {
  TempDir tmp;
  const ImportResult r = import_dataset(options("online-retail", {fixture(tmp, "retail.csv", kRetail)}, tmp / "or"));
  EXPECT_EQ(r.report.rows_read, 8);
  EXPECT_EQ(r.report.rows_kept, 3);
  EXPECT_EQ(r.report.dropped.at("cancelled invoice").count, 1);
  EXPECT_EQ(r.report.dropped.at("missing customer").count, 2);
  EXPECT_EQ(r.report.dropped.at("non-positive quantity").count, 1);
  EXPECT_EQ(r.report.dropped.at("non-positive price").count, 1);
  EXPECT_EQ(r.report.dropped.at("cancelled invoice").examples[0], (tmp / "retail.csv").string() + ":4: InvoiceNo C536379");

  const Dataset d = Dataset::open(tmp / "or", true);
  const Interactions x = d.interactions();
  EXPECT_EQ(externals(d.user_ids(), x.users), (Strings{"17850", "15311", "17850"}));
  EXPECT_EQ(externals(d.item_ids(), x.items), (Strings{"85123A", "82567", "85123A"}));
  EXPECT_EQ(x.values.to_vector<float>(), (F32{6, 2, 48}));
  const int64_t dec1 = 14944LL * 86400;
  EXPECT_EQ(x.timestamps.to_vector<int64_t>(), (I64{dec1 + 8 * 3600 + 26 * 60, dec1 + 9 * 3600 + 41 * 60, dec1 + 12 * 3600 + 27 * 60}));
  EXPECT_EQ(x.events.to_vector<uint8_t>(), (U8{3, 3, 3}));
  const auto& lines = d.tables().at("lines");
  EXPECT_EQ(lines.at("invoice").to_vector<int64_t>(), (I64{536365, 536381, 536477}));
  EXPECT_EQ(lines.at("price").to_vector<float>(), (F32{2.55f, 2.1f, 2.1f}));
  EXPECT_EQ(lines.at("revenue").to_vector<float>(), (F32{static_cast<float>(6 * 2.55), static_cast<float>(2 * 2.1),
                                                         static_cast<float>(48 * 2.1)}));
  // Item price = the last kept row's; description = the first; country = the customer's last.
  EXPECT_EQ(d.item_features().numeric.at("price").values.to_vector<float>(), (F32{2.1f, 2.1f}));
  const TokenFeature& desc = d.item_features().tokens.at("description");
  std::vector<std::string> words;
  for (int64_t t : desc.tokens.to_vector<int64_t>()) words.push_back(desc.vocab.external(t));
  EXPECT_EQ(words, (Strings{"white", "hanging", "heart", "t", "light", "holder", "airline", "lounge", "metal", "sign"}));
  const CategoricalFeature& country = d.user_features().categorical.at("country");
  EXPECT_EQ(country.vocab.external(country.codes.to_vector<int64_t>()[0]), "France");
  const json meta = meta_of(d);
  EXPECT_EQ(meta["import_report"]["dropped"]["missing customer"]["count"], 2);
  EXPECT_NE(meta["import_report"]["notes"].dump().find("cancelled invoice: InvoiceNo starts with 'C'"), std::string::npos);
}

TEST(Importers, RetailRocketEventsMapToKindsAndSeconds) {
  TempDir tmp;
  const fs::path events = fixture(tmp, "events.csv",
                                  "timestamp,visitorid,event,itemid,transactionid\n"
                                  "1433221332117,257597,view,355908,\n"
                                  "1433224214164,992329,addtocart,248676,\n"
                                  "1433221999827,111016,transaction,11279,4000\n");
  import_dataset(options("retailrocket", {events}, tmp / "rr"));
  const Dataset d = Dataset::open(tmp / "rr");
  const Interactions x = d.interactions();
  EXPECT_EQ(x.events.to_vector<uint8_t>(), (U8{1, 2, 3}));
  EXPECT_EQ(x.timestamps.to_vector<int64_t>(), (I64{1433221332, 1433224214, 1433221999}));
  EXPECT_EQ(externals(d.user_ids(), x.users), (Strings{"257597", "992329", "111016"}));
  EXPECT_EQ(d.tables().at("lines").at("transaction").to_vector<int64_t>(), (I64{-1, -1, 4000}));

  const fs::path bad = fixture(tmp, "bad.csv", "timestamp,visitorid,event,itemid,transactionid\n1,2,click,3,\n");
  EXPECT_MESSAGE_HAS(import_error(options("retailrocket", {bad}, tmp / "x")),
                     "bad.csv:2: column 'event' (2): 'click' is not an event");
}

TEST(Importers, DelimitedMapsColumnsByNameOrIndexWithSideFeatures) {
  TempDir tmp;
  const fs::path shop = fixture(tmp, "shop.csv",
                                "when,who,what,kind,cat,brand,price,title\n"
                                "2024-01-02T10:00:00Z,ana,sku1,view,mugs,Acme,4.5,\"Big Mug, Blue\"\n"
                                "2024-01-02T10:05:00Z,ana,sku1,purchase,mugs,Acme,4.0,Big mug\n"
                                "2024-01-03T09:00:00Z,bo,sku2,addtocart,,,,\n");
  ImportOptions o = options("delimited", {shop}, tmp / "shop");
  o.columns = parse_column_map("user=who,item=what,timestamp=when,event=kind,category=cat,brand=brand,price=price,text=title");
  import_dataset(o);
  const Dataset d = Dataset::open(tmp / "shop");
  const Interactions x = d.interactions();
  EXPECT_EQ(externals(d.user_ids(), x.users), (Strings{"ana", "ana", "bo"}));
  EXPECT_EQ(x.events.to_vector<uint8_t>(), (U8{1, 3, 2}));
  EXPECT_EQ(x.values.to_vector<float>(), (F32{1, 1, 1}));
  EXPECT_EQ(x.timestamps.to_vector<int64_t>()[2] - x.timestamps.to_vector<int64_t>()[0], 23 * 3600);
  const SideFeatures& f = d.item_features();
  EXPECT_EQ(f.categorical.at("category").codes.to_vector<int64_t>(), (I64{0, -1}));
  EXPECT_EQ(f.categorical.at("brand").vocab.external(0), "Acme");
  const std::vector<float> price = f.numeric.at("price").values.to_vector<float>();
  EXPECT_EQ(price[0], 4.0f);
  EXPECT_TRUE(std::isnan(price[1]));
  EXPECT_EQ(f.tokens.at("text").offsets.to_vector<int64_t>(), (I64{0, 3, 3}));

  // No header: 0-based indices, another delimiter, a weight.
  const fs::path raw = fixture(tmp, "raw.txt", "u1;i1;2.5\nu2;i1;1\n");
  ImportOptions n = options("delimited", {raw}, tmp / "raw");
  n.columns = parse_column_map("user=0,item=1,weight=2");
  n.delimiter = ";";
  n.header = false;
  import_dataset(n);
  const Dataset r = Dataset::open(tmp / "raw");
  EXPECT_EQ(r.interactions().values.to_vector<float>(), (F32{2.5f, 1}));
  EXPECT_EQ(r.interactions().events.to_vector<uint8_t>(), (U8{0, 0}));
  n.out = tmp / "raw2";
  n.columns["weight"] = "3";
  EXPECT_MESSAGE_HAS(import_error(n), "column index 3 is out of range: the first row has 3 fields");
  n.columns = parse_column_map("user=0,item=1,rating=stars");
  EXPECT_MESSAGE_HAS(import_error(n), "no header line, so column 'stars' must be given as a 0-based index");

  EXPECT_THROW(parse_column_map("user=a,colour=b"), Error);
  EXPECT_THROW(parse_column_map("user"), Error);
  EXPECT_THROW(parse_column_map("user=a,user=b"), Error);
  ImportOptions missing = options("delimited", {shop}, tmp / "m");
  missing.columns = parse_column_map("user=who,item=nope");
  EXPECT_MESSAGE_HAS(import_error(missing), "shop.csv: the header has no column 'nope' (columns: when, who, what,");
}

// ---- bad input ---------------------------------------------------------------------------

TEST(ImportErrors, EachMalformedRowIsNamedByFileLineAndColumn) {
  TempDir tmp;
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"1\t2\t3\t4\n5\t6\tx\t8\n", "u.data:2: column 'rating' (2): 'x' is not a number"},
      {"1\t2\t3\t4\n5\t6\t7\t8\n", "u.data:2: column 'rating' (2): '7' is outside the rating scale [0.5, 5]"},
      {"1\t2\t0\t4\n", "u.data:1: column 'rating' (2): '0' is outside the rating scale [0.5, 5]"},
      {"1\t2\tnan\t4\n", "u.data:1: column 'rating' (2): 'nan' is not finite"},
      {"1\t2\t-inf\t4\n", "u.data:1: column 'rating' (2): '-inf' is not finite"},
      {"1\t2\t3\tlast tuesday\n", "u.data:1: column 'timestamp' (3): 'last tuesday' is not a date"},
      {"1\t2\t3\n", "u.data:1: 3 fields, expected 4 (delimiter '\\t')"},
      {"1\t2\t3\t4\t5\n", "u.data:1: 5 fields, expected 4"},
      {"\n\n99999999999999999999\t2\t3\t4\n", "u.data:3: column 'user' (0): '99999999999999999999' overflows a 64-bit integer"},
      {"1\t-\t3\t4", "u.data:1: column 'item' (1): '-' is not an integer"},
  };
  for (const Case& c : cases) {
    fixture(tmp, "u.data", c.text);
    const std::string message = import_error(options("movielens-100k", {tmp / "u.data"}, tmp / "out"));
    EXPECT_MESSAGE_HAS(message, c.message);
    EXPECT_FALSE(fs::exists(tmp / "out")) << c.text;
  }
  fixture(tmp, "r.csv", "userId,movieId,rating,timestamp\n1,2,3,4\nuserId,movieId,rating,timestamp\n");
  EXPECT_MESSAGE_HAS(import_error(options("movielens-20m", {tmp / "r.csv"}, tmp / "out")), "r.csv:3: a repeated header line");
  fixture(tmp, "r.csv", "userId,movieId,rating,timestamp\n1,\"2,3,4\n5,6,7,8\n");
  EXPECT_MESSAGE_HAS(import_error(options("movielens-20m", {tmp / "r.csv"}, tmp / "out")),
                     "r.csv:2: column 'movieId' (1): a quoted field is never closed");
  // Only the test directory's own files remain: no output, no temporary directory.
  for (const auto& e : fs::directory_iterator(tmp.path())) EXPECT_TRUE(e.is_regular_file()) << e.path();
}

TEST(ImportErrors, EmptyMissingAndHeaderOnlyFilesAlwaysFail) {
  TempDir tmp;
  ImportOptions o = options("movielens-100k", {fixture(tmp, "empty", "")}, tmp / "out");
  o.on_error = OnError::skip;  // even when skipping rows
  EXPECT_MESSAGE_HAS(import_error(o), "empty: the file is empty (no rows)");
  o.inputs = {fixture(tmp, "blank", "\n\r\n  \n")};
  EXPECT_MESSAGE_HAS(import_error(o), "blank: the file is empty");
  o.inputs = {tmp / "nowhere.data"};
  EXPECT_MESSAGE_HAS(import_error(o), "nowhere.data: no such file");
  o.inputs = {tmp.path()};
  EXPECT_MESSAGE_HAS(import_error(o), "is a directory, not a file");
  o.format = "movielens-25m";
  o.inputs = {fixture(tmp, "h.csv", "\xEF\xBB\xBFuserId,movieId,rating,timestamp\r\n")};
  EXPECT_MESSAGE_HAS(import_error(o), "h.csv: the file has a header line but no rows");
  o.inputs = {fixture(tmp, "h.csv", "user,movie,rating,timestamp\n1,2,3,4\n")};
  EXPECT_MESSAGE_HAS(import_error(o), "h.csv: the header has no column 'userId' (columns: user, movie, rating, timestamp)");
  o.format = "movielens-100k";
  o.inputs = {fixture(tmp, "allbad", "x\t1\t1\t1\n")};
  EXPECT_MESSAGE_HAS(import_error(o), "import: no rows kept from 1 rows read");
  EXPECT_FALSE(fs::exists(tmp / "out"));
  // A bad request is not a data error.
  o.format = "movielens-7m";
  try {
    import_dataset(o);
    FAIL() << "unknown format accepted";
  } catch (const DataError&) {
    FAIL() << "an unknown format is a usage error, not a data error";
  } catch (const Error& e) {
    EXPECT_MESSAGE_HAS(std::string(e.what()), "unknown import format 'movielens-7m' (formats: movielens-100k");
  }
}

TEST(ImportErrors, SkipCountsReasonsWithExamplesInMetaJson) {
  TempDir tmp;
  std::string text = "1\t1\t4\t100\n";
  for (int i = 0; i < 7; ++i) text += "2\t1\tbad\t100\n";
  text += "3\t1\t9\t100\n2\t2\t2\t100\n1\t2\t3\n4\t4\t4\t4";  // no newline on the last line
  ImportOptions o = options("movielens-100k", {fixture(tmp, "u.data", text)}, tmp / "out");
  o.on_error = OnError::skip;
  const ImportResult r = import_dataset(o);
  EXPECT_EQ(r.report.rows_read, 12);
  EXPECT_EQ(r.report.rows_kept, 3);
  EXPECT_EQ(r.report.rows_dropped(), 9);
  const json meta = meta_of(Dataset::open(tmp / "out"));
  const json& dropped = meta["import_report"]["dropped"];
  EXPECT_EQ(dropped["rating is not a number"]["count"], 7);
  EXPECT_EQ(dropped["rating is not a number"]["examples"].size(), ImportReport::kExamplesPerReason);
  EXPECT_EQ(dropped["rating is not a number"]["examples"][0],
            (tmp / "u.data").string() + ":2: column 'rating' (2): 'bad' is not a number");
  EXPECT_EQ(dropped["rating is outside the rating scale [0.5, 5]"]["count"], 1);
  EXPECT_EQ(dropped["wrong number of fields"]["count"], 1);
  EXPECT_EQ(meta["counts"]["interactions"], 3);
  EXPECT_NE(meta["source"]["parameters"].dump().find("on_error=skip"), std::string::npos);
  // LightGCN: a bad user drops the whole line's items; a bad item only itself.
  ImportOptions g = options("lightgcn", {fixture(tmp, "train.txt", "0 1 2\nx 1 2 3\n1 4 y 5\n")}, tmp / "g");
  g.on_error = OnError::skip;
  const ImportResult gr = import_dataset(g);
  EXPECT_EQ(gr.report.rows_read, 8);
  EXPECT_EQ(gr.report.rows_kept, 4);
  EXPECT_EQ(gr.report.dropped.at("user is not an integer").count, 3);
  EXPECT_EQ(gr.report.dropped.at("item is not an integer").count, 1);
  // Latin-1 bytes in a bad field still give a valid meta.json.
  ImportOptions l = options("movielens-100k", {fixture(tmp, "latin1.data", "1\t1\t4\xE9\t1\n2\t2\t2\t2\n")}, tmp / "l");
  l.on_error = OnError::skip;
  import_dataset(l);
  EXPECT_EQ(meta_of(Dataset::open(tmp / "l"))["import_report"]["dropped"]["rating is not a number"]["examples"][0],
            (tmp / "latin1.data").string() + ":1: column 'rating' (2): '4?' is not a number");
}

TEST(ImportErrors, ExistingOutputIsKeptUnlessForcedAndThenReplacedWhole) {
  TempDir tmp;
  const fs::path a = fixture(tmp, "a.data", "1\t1\t1\t1\n");
  const fs::path b = fixture(tmp, "b.data", "1\t1\t1\t1\n2\t2\t2\t2\n");
  import_dataset(options("movielens-100k", {a}, tmp / "out"));
  EXPECT_MESSAGE_HAS(import_error(options("movielens-100k", {b}, tmp / "out")), "already exists");
  ImportOptions forced = options("movielens-100k", {fixture(tmp, "bad.data", "1\t1\tx\t1\n")}, tmp / "out");
  forced.overwrite = true;
  EXPECT_THROW(import_dataset(forced), DataError);
  EXPECT_EQ(Dataset::open(tmp / "out").num_interactions(), 1) << "a failed forced import must keep the old dataset";
  forced.inputs = {b};
  import_dataset(forced);
  EXPECT_EQ(Dataset::open(tmp / "out", true).num_interactions(), 2);
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 4);  // 3 inputs + out
}

}  // namespace
}  // namespace aisle::data
