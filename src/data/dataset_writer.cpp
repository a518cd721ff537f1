#include "aisle/data/dataset_writer.hpp"

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "aisle/config.hpp"
#include "aisle/data/dataset.hpp"
#include "aisle/data/id_map.hpp"
#include "src/data/file_io.hpp"

namespace aisle::data {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A side feature being collected: one slot per entity, grown as entities appear.
struct FeatureBuilder {
  enum Kind { categorical, numeric, tokens } kind;
  std::vector<int64_t> codes;                 // categorical
  std::vector<float> values;                  // numeric
  std::vector<std::vector<int64_t>> lists;    // tokens
  IdInterner vocab;
};

struct EntityFeatures {
  std::map<std::string, FeatureBuilder, std::less<>> features;

  FeatureBuilder& get(std::string_view name, FeatureBuilder::Kind kind, const char* who) {
    auto it = features.find(name);
    if (it == features.end()) it = features.emplace(std::string(name), FeatureBuilder{kind, {}, {}, {}, {}}).first;
    AISLE_CHECK(it->second.kind == kind, who, ": feature '", name, "' was first set as another kind");
    return it->second;
  }
};

}  // namespace

struct DatasetWriter::State {
  fs::path dir, tmp;
  bool overwrite = false, finished = false;
  bool dense = false;
  int64_t dense_users = 0, dense_items = 0;
  IdInterner users, items;
  std::unique_ptr<detail::ColumnFile> user_col, item_col, value_col, time_col, event_col, part_col;
  struct TableColumn {
    std::string table, column;
    std::unique_ptr<detail::ColumnFile> file;
    std::unique_ptr<Column> sink;
  };
  std::vector<TableColumn> table_columns;
  float value_min = std::numeric_limits<float>::infinity(), value_max = -std::numeric_limits<float>::infinity();
  int64_t time_min = std::numeric_limits<int64_t>::max(), time_max = std::numeric_limits<int64_t>::min();
  int64_t event_counts[5] = {};
  EntityFeatures user_features, item_features;
  json files = json::array();

  void record(const std::string& rel, DType dtype, int64_t count, const std::string& sha) {
    files.push_back({{"path", rel}, {"dtype", dtype_name(dtype)}, {"count", count}, {"sha256", sha}});
  }

  // Writes a whole array in one go (id maps, features).
  template <class T>
  void write_array(const std::string& rel, const T* data, int64_t n) {
    detail::ColumnFile f(tmp / rel, dtype_of<T>);
    f.write(data, static_cast<size_t>(n) * sizeof(T), n);
    record(rel, dtype_of<T>, n, f.finish());
  }

  void write_map(const std::string& prefix, const IdMap& m) {
    write_array(prefix + ".offsets.i64", m.offsets().data<int64_t>(), m.offsets().numel());
    write_array(prefix + ".bytes", m.bytes().data<uint8_t>(), m.bytes().numel());
  }

  json write_features(const std::string& folder, EntityFeatures& ef, int64_t entities) {
    json list = json::array();
    for (auto& [name, f] : ef.features) {
      const std::string base = folder + "/" + name;
      json entry{{"name", name}};
      if (f.kind == FeatureBuilder::categorical) {
        f.codes.resize(static_cast<size_t>(entities), -1);
        write_array(base + ".codes.i64", f.codes.data(), entities);
        write_map(base + ".vocab", f.vocab.to_map());
        entry["kind"] = "categorical";
      } else if (f.kind == FeatureBuilder::numeric) {
        f.values.resize(static_cast<size_t>(entities), std::numeric_limits<float>::quiet_NaN());
        write_array(base + ".f32", f.values.data(), entities);
        entry["kind"] = "numeric";
      } else {
        f.lists.resize(static_cast<size_t>(entities));
        std::vector<int64_t> offsets{0}, flat;
        for (const auto& l : f.lists) {
          flat.insert(flat.end(), l.begin(), l.end());
          offsets.push_back(static_cast<int64_t>(flat.size()));
        }
        write_array(base + ".offsets.i64", offsets.data(), static_cast<int64_t>(offsets.size()));
        write_array(base + ".tokens.i64", flat.data(), static_cast<int64_t>(flat.size()));
        write_map(base + ".vocab", f.vocab.to_map());
        entry["kind"] = "tokens";
      }
      list.push_back(entry);
    }
    return list;
  }
};

DatasetWriter::DatasetWriter(fs::path dir, bool overwrite) : s_(std::make_unique<State>()) {
  AISLE_CHECK(!dir.empty(), "dataset writer: empty output path");
  s_->dir = fs::absolute(dir).lexically_normal();
  if (s_->dir.filename().empty()) s_->dir = s_->dir.parent_path();
  s_->overwrite = overwrite;
  // A wrong output path is a usage error (exit 2), not bad data.
  AISLE_CHECK(overwrite || !fs::exists(s_->dir), s_->dir.string(),
              ": already exists; pass --force to replace it (or choose another --out)");
  AISLE_CHECK(fs::is_directory(s_->dir.parent_path()), s_->dir.parent_path().string(),
              ": the parent directory of the output does not exist");
  std::random_device rd;
  std::string tmp_name = ".";
  tmp_name.append(s_->dir.filename().string()).append(".tmp-").append(std::to_string(::getpid()));
  tmp_name.append("-").append(std::to_string(rd()));
  s_->tmp = s_->dir.parent_path() / tmp_name;
  fs::create_directories(s_->tmp / "interactions");
  fs::create_directories(s_->tmp / "users");
  fs::create_directories(s_->tmp / "items");
  s_->user_col = std::make_unique<detail::ColumnFile>(s_->tmp / "interactions/user.i64", DType::i64);
  s_->item_col = std::make_unique<detail::ColumnFile>(s_->tmp / "interactions/item.i64", DType::i64);
  s_->value_col = std::make_unique<detail::ColumnFile>(s_->tmp / "interactions/value.f32", DType::f32);
  s_->time_col = std::make_unique<detail::ColumnFile>(s_->tmp / "interactions/timestamp.i64", DType::i64);
  s_->event_col = std::make_unique<detail::ColumnFile>(s_->tmp / "interactions/event.u8", DType::u8);
  s_->part_col = std::make_unique<detail::ColumnFile>(s_->tmp / "interactions/part.u8", DType::u8);
}

DatasetWriter::~DatasetWriter() {
  if (s_ && !s_->finished) {
    s_->user_col.reset();
    s_->item_col.reset();
    s_->value_col.reset();
    s_->time_col.reset();
    s_->event_col.reset();
    s_->part_col.reset();
    s_->table_columns.clear();
    std::error_code ec;
    fs::remove_all(s_->tmp, ec);  // a failed import leaves nothing behind
  }
}

int64_t DatasetWriter::user_id(std::string_view external) {
  AISLE_CHECK(!s_->dense, "dataset writer: ids were declared dense");
  return s_->users.intern(external);
}

int64_t DatasetWriter::item_id(std::string_view external) {
  AISLE_CHECK(!s_->dense, "dataset writer: ids were declared dense");
  return s_->items.intern(external);
}

void DatasetWriter::use_dense_ids(int64_t num_users, int64_t num_items) {
  AISLE_CHECK(s_->users.size() == 0 && s_->items.size() == 0, "dataset writer: ids already interned");
  AISLE_CHECK(num_users >= 0 && num_items >= 0, "dataset writer: negative entity counts");
  s_->dense = true;
  s_->dense_users = num_users;
  s_->dense_items = num_items;
}

void DatasetWriter::Column::push_bytes(const void* data, size_t n) {
  static_cast<detail::ColumnFile*>(file_)->write(data, n, 1);
}

DatasetWriter::Column& DatasetWriter::table_column(const std::string& table, const std::string& column, DType dtype) {
  auto valid = [](const std::string& name) {
    return !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  };
  AISLE_CHECK(valid(table) && valid(column), "dataset writer: table and column names must be [a-z0-9_]+, got '",
              table, "/", column, "'");
  for (const auto& c : s_->table_columns)
    AISLE_CHECK(!(c.table == table && c.column == column), "dataset writer: column ", table, "/", column, " exists");
  fs::create_directories(s_->tmp / "tables" / table);
  State::TableColumn c{table, column,
                       std::make_unique<detail::ColumnFile>(s_->tmp / "tables" / table / (column + "." + dtype_name(dtype)), dtype),
                       std::make_unique<Column>()};
  c.sink->file_ = c.file.get();
  s_->table_columns.push_back(std::move(c));
  return *s_->table_columns.back().sink;
}

void DatasetWriter::add(int64_t user, int64_t item, float value, int64_t timestamp, Event event, Part part) {
  const int64_t nu = s_->dense ? s_->dense_users : s_->users.size();
  const int64_t ni = s_->dense ? s_->dense_items : s_->items.size();
  AISLE_CHECK(user >= 0 && user < nu, "dataset writer: user id ", user, " is outside [0, ", nu, ")");
  AISLE_CHECK(item >= 0 && item < ni, "dataset writer: item id ", item, " is outside [0, ", ni, ")");
  AISLE_CHECK(std::isfinite(value), "dataset writer: non-finite value ", value);
  s_->user_col->push(user);
  s_->item_col->push(item);
  s_->value_col->push(value);
  s_->time_col->push(timestamp);
  s_->event_col->push(static_cast<uint8_t>(event));
  s_->part_col->push(static_cast<uint8_t>(part));
  s_->value_min = std::min(s_->value_min, value);
  s_->value_max = std::max(s_->value_max, value);
  s_->time_min = std::min(s_->time_min, timestamp);
  s_->time_max = std::max(s_->time_max, timestamp);
  ++s_->event_counts[static_cast<int>(event)];
}

namespace {
template <class T>
T& slot(std::vector<T>& v, int64_t entity, T missing) {
  AISLE_CHECK(entity >= 0, "dataset writer: negative entity id ", entity);
  if (static_cast<size_t>(entity) >= v.size()) v.resize(static_cast<size_t>(entity) + 1, missing);
  return v[static_cast<size_t>(entity)];
}
}  // namespace

void DatasetWriter::user_categorical(std::string_view feature, int64_t user, std::string_view value) {
  FeatureBuilder& f = s_->user_features.get(feature, FeatureBuilder::categorical, "user feature");
  slot(f.codes, user, int64_t{-1}) = f.vocab.intern(value);
}

void DatasetWriter::item_categorical(std::string_view feature, int64_t item, std::string_view value) {
  FeatureBuilder& f = s_->item_features.get(feature, FeatureBuilder::categorical, "item feature");
  slot(f.codes, item, int64_t{-1}) = f.vocab.intern(value);
}

void DatasetWriter::user_numeric(std::string_view feature, int64_t user, double value) {
  FeatureBuilder& f = s_->user_features.get(feature, FeatureBuilder::numeric, "user feature");
  slot(f.values, user, std::numeric_limits<float>::quiet_NaN()) = static_cast<float>(value);
}

void DatasetWriter::item_numeric(std::string_view feature, int64_t item, double value) {
  FeatureBuilder& f = s_->item_features.get(feature, FeatureBuilder::numeric, "item feature");
  slot(f.values, item, std::numeric_limits<float>::quiet_NaN()) = static_cast<float>(value);
}

void DatasetWriter::item_tokens(std::string_view feature, int64_t item, const std::vector<std::string_view>& tokens) {
  FeatureBuilder& f = s_->item_features.get(feature, FeatureBuilder::tokens, "item feature");
  std::vector<int64_t>& list = slot(f.lists, item, std::vector<int64_t>{});
  list.clear();
  for (std::string_view t : tokens) list.push_back(f.vocab.intern(t));
}

int64_t DatasetWriter::rows() const { return s_->user_col->count(); }

void DatasetWriter::finish(const DatasetSource& source, const ImportReport& report) {
  State& s = *s_;
  AISLE_CHECK(!s.finished, "dataset writer: finish() called twice");
  const int64_t n = s.user_col->count();
  s.record("interactions/user.i64", DType::i64, n, s.user_col->finish());
  s.record("interactions/item.i64", DType::i64, n, s.item_col->finish());
  s.record("interactions/value.f32", DType::f32, n, s.value_col->finish());
  s.record("interactions/timestamp.i64", DType::i64, n, s.time_col->finish());
  s.record("interactions/event.u8", DType::u8, n, s.event_col->finish());
  s.record("interactions/part.u8", DType::u8, n, s.part_col->finish());
  json tables = json::object();
  for (auto& c : s.table_columns) {
    const std::string rel = "tables/" + c.table + "/" + c.column + "." + dtype_name(c.file->dtype());
    const int64_t rows = c.file->count();
    json& t = tables[c.table];
    if (t.contains("rows"))
      AISLE_CHECK(t["rows"].get<int64_t>() == rows, "dataset writer: table '", c.table, "' has columns of ",
                  t["rows"].get<int64_t>(), " and ", rows, " rows");
    t["rows"] = rows;
    t["columns"].push_back({{"name", c.column}, {"path", rel}, {"dtype", dtype_name(c.file->dtype())}});
    s.record(rel, c.file->dtype(), rows, c.file->finish());
  }

  const int64_t num_users = s.dense ? s.dense_users : s.users.size();
  const int64_t num_items = s.dense ? s.dense_items : s.items.size();
  if (!s.dense) {
    s.write_map("users/ids", s.users.to_map());
    s.write_map("items/ids", s.items.to_map());
  }
  for (auto* ef : {&s.user_features, &s.item_features})
    for (auto& [name, f] : ef->features) {
      const int64_t count = static_cast<int64_t>(f.kind == FeatureBuilder::categorical ? f.codes.size()
                                                 : f.kind == FeatureBuilder::numeric  ? f.values.size()
                                                                                       : f.lists.size());
      const int64_t limit = ef == &s.user_features ? num_users : num_items;
      AISLE_CHECK(count <= limit, "dataset writer: feature '", name, "' names entity ", count - 1,
                  " but there are only ", limit);
    }
  json features{{"users", s.write_features("users", s.user_features, num_users)},
                {"items", s.write_features("items", s.item_features, num_items)}};

  json inputs = json::array();
  for (const auto& in : source.inputs)
    inputs.push_back({{"path", in}, {"bytes", fs::file_size(in)}, {"sha256", sha256_file(in)}});
  json dropped = json::object();
  for (const auto& [reason, r] : report.dropped) dropped[reason] = {{"count", r.count}, {"examples", r.examples}};
  json events = json::object();
  for (int e = 0; e < 5; ++e)
    if (s.event_counts[e]) events[event_name(static_cast<Event>(e))] = s.event_counts[e];

  json meta{
      {"format", "aisle-dataset"},
      {"format_version", kDatasetFormatVersion},
      {"created_by", std::string("aisle ") + AISLE_VERSION},
      {"counts", {{"interactions", n}, {"users", num_users}, {"items", num_items}}},
      {"value", n ? json{{"min", s.value_min}, {"max", s.value_max}} : json{{"min", nullptr}, {"max", nullptr}}},
      {"time", n ? json{{"min", s.time_min}, {"max", s.time_max}} : json{{"min", nullptr}, {"max", nullptr}}},
      {"events", events},
      {"ids", {{"users", s.dense ? "dense" : "strings"}, {"items", s.dense ? "dense" : "strings"}}},
      {"features", features},
      {"tables", tables},
      {"files", s.files},
      {"source", {{"format", source.format}, {"inputs", inputs}, {"parameters", source.parameters}}},
      {"import_report", {{"rows_read", report.rows_read}, {"rows_kept", report.rows_kept},
                         {"dropped", dropped}, {"notes", report.notes}}},
  };
  {
    std::ofstream out(s.tmp / "meta.json");
    out << meta.dump(2) << "\n";
    AISLE_CHECK(out.good(), (s.tmp / "meta.json").string(), ": write failed");
  }
  // Swap into place: the destination is either the old dataset or the complete new one.
  fs::path old;
  if (fs::exists(s.dir)) {
    AISLE_CHECK(s.overwrite, s.dir.string(), ": appeared while importing; not replacing it");
    old = s.tmp.string() + ".old";
    fs::rename(s.dir, old);
  }
  fs::rename(s.tmp, s.dir);
  s.finished = true;
  if (!old.empty()) fs::remove_all(old);
}

}  // namespace aisle::data
