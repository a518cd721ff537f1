#include "aisle/data/dataset.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aisle/core/error.hpp"

namespace aisle::data {

namespace fs = std::filesystem;
using nlohmann::json;

static_assert(std::endian::native == std::endian::little,
              "dataset files are little-endian arrays mapped in place");

struct Dataset::State {
  fs::path dir;
  std::string meta_text;
  int64_t interactions = 0, users = 0, items = 0;
  std::vector<FileInfo> files;
  std::map<std::string, Tensor> arrays;  // by relative path
  Interactions columns;
  IdMap user_ids, item_ids;
  SideFeatures user_features, item_features;
  std::map<std::string, std::map<std::string, Tensor>> tables;
};

namespace {

// Maps a whole file as a private copy-on-write mapping: reads come from the page cache with no
// copy, and a caller that writes into a column changes only its own pages, never the file.
Tensor map_file(const fs::path& path, DType dtype, int64_t count) {
  const size_t bytes = static_cast<size_t>(count) * dtype_size(dtype);
  if (bytes == 0) return Tensor::empty({count}, dtype);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  AISLE_DATA_CHECK(fd >= 0, path.string(), ": cannot open: ", std::strerror(errno));
  void* addr = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);
  AISLE_DATA_CHECK(addr != MAP_FAILED, path.string(), ": cannot map ", bytes, " bytes: ", std::strerror(err));
  std::shared_ptr<void> owner(addr, [bytes](void* p) { ::munmap(p, bytes); });
  return Tensor::from_external(addr, {count}, dtype, std::move(owner));
}

const json& field(const json& j, const char* key, const fs::path& meta) {
  AISLE_DATA_CHECK(j.is_object() && j.contains(key), meta.string(), ": missing field '", key, "'");
  return j.at(key);
}

template <class T>
T number(const json& j, const char* key, const fs::path& meta) {
  const json& v = field(j, key, meta);
  AISLE_DATA_CHECK(v.is_number_integer(), meta.string(), ": field '", key, "' must be an integer");
  return v.get<T>();
}

}  // namespace

Dataset Dataset::open(const fs::path& dir, bool verify) {
  auto s = std::make_shared<State>();
  s->dir = dir;
  const fs::path meta_path = dir / "meta.json";
  AISLE_DATA_CHECK(fs::is_directory(dir), dir.string(), ": not a dataset directory (it does not exist)");
  AISLE_DATA_CHECK(fs::exists(meta_path), meta_path.string(), ": missing; ", dir.string(),
              " is not an Aisle dataset (import one with `aisle data import`)");
  {
    std::ifstream in(meta_path);
    std::stringstream ss;
    ss << in.rdbuf();
    s->meta_text = ss.str();
  }
  json meta;
  try {
    meta = json::parse(s->meta_text);
  } catch (const json::parse_error& e) {
    AISLE_DATA_FAIL(meta_path.string(), ": invalid JSON: ", e.what());
  }
  AISLE_DATA_CHECK(meta.is_object() && meta.value("format", "") == "aisle-dataset", meta_path.string(),
              ": not an Aisle dataset (format field is not \"aisle-dataset\")");
  const int version = number<int>(meta, "format_version", meta_path);
  AISLE_DATA_CHECK(version == kDatasetFormatVersion, meta_path.string(), ": dataset format version ", version,
              " is not supported by this Aisle (it reads version ", kDatasetFormatVersion, ")");
  try {
    const json& counts = field(meta, "counts", meta_path);
    s->interactions = number<int64_t>(counts, "interactions", meta_path);
    s->users = number<int64_t>(counts, "users", meta_path);
    s->items = number<int64_t>(counts, "items", meta_path);
    for (const json& f : field(meta, "files", meta_path)) {
      FileInfo info{field(f, "path", meta_path).get<std::string>(),
                    parse_dtype(field(f, "dtype", meta_path).get<std::string>()),
                    number<int64_t>(f, "count", meta_path), field(f, "sha256", meta_path).get<std::string>()};
      const fs::path p = dir / info.path;
      AISLE_DATA_CHECK(fs::exists(p), p.string(), ": listed in meta.json but missing");
      const auto expect = static_cast<uintmax_t>(info.count) * dtype_size(info.dtype);
      AISLE_DATA_CHECK(fs::file_size(p) == expect, p.string(), ": ", fs::file_size(p), " bytes, but meta.json says ",
                  info.count, " x ", dtype_name(info.dtype), " = ", expect, " bytes (truncated or replaced?)");
      s->files.push_back(info);
    }
  } catch (const json::exception& e) {
    AISLE_DATA_FAIL(meta_path.string(), ": malformed: ", e.what());
  }
  Dataset d;
  d.state_ = s;
  if (verify) d.verify_checksums();
  for (const FileInfo& f : s->files) s->arrays[f.path] = map_file(dir / f.path, f.dtype, f.count);

  auto array = [&](const std::string& rel, DType dtype, int64_t count) -> Tensor {
    const auto it = s->arrays.find(rel);
    AISLE_DATA_CHECK(it != s->arrays.end(), meta_path.string(), ": does not list '", rel, "'");
    AISLE_DATA_CHECK(it->second.dtype() == dtype && (count < 0 || it->second.numel() == count), (dir / rel).string(),
                ": expected ", count, " x ", dtype_name(dtype), ", meta.json lists ", it->second.describe());
    return it->second;
  };
  Interactions& x = s->columns;
  x.users = array("interactions/user.i64", DType::i64, s->interactions);
  x.items = array("interactions/item.i64", DType::i64, s->interactions);
  x.values = array("interactions/value.f32", DType::f32, s->interactions);
  x.timestamps = array("interactions/timestamp.i64", DType::i64, s->interactions);
  x.events = array("interactions/event.u8", DType::u8, s->interactions);
  x.parts = array("interactions/part.u8", DType::u8, s->interactions);
  x.num_users = s->users;
  x.num_items = s->items;

  auto id_map = [&](const std::string& folder, int64_t n) {
    const std::string kind = meta.at("ids").value(folder, "strings");
    if (kind == "dense") return IdMap::dense(n);
    IdMap m = IdMap::from_arrays(array(folder + "/ids.offsets.i64", DType::i64, n + 1),
                                 array(folder + "/ids.bytes", DType::u8, -1));
    return m;
  };
  s->user_ids = id_map("users", s->users);
  s->item_ids = id_map("items", s->items);

  auto features = [&](const std::string& folder, int64_t n, SideFeatures& out) {
    if (!meta.contains("features") || !meta["features"].contains(folder)) return;
    for (const json& f : meta["features"][folder]) {
      const std::string name = f.at("name"), kind = f.at("kind"), base = folder + "/" + name;
      auto vocab = [&] { return IdMap::from_arrays(array(base + ".vocab.offsets.i64", DType::i64, -1),
                                                   array(base + ".vocab.bytes", DType::u8, -1)); };
      if (kind == "categorical") {
        out.categorical[name] = {array(base + ".codes.i64", DType::i64, n), vocab()};
      } else if (kind == "numeric") {
        out.numeric[name] = {array(base + ".f32", DType::f32, n)};
      } else if (kind == "tokens") {
        out.tokens[name] = {array(base + ".offsets.i64", DType::i64, n + 1), array(base + ".tokens.i64", DType::i64, -1),
                            vocab()};
      } else {
        AISLE_DATA_FAIL(meta_path.string(), ": feature '", name, "' has unknown kind '", kind, "'");
      }
    }
  };
  features("users", s->users, s->user_features);
  features("items", s->items, s->item_features);
  if (meta.contains("tables"))
    for (const auto& [name, t] : meta["tables"].items()) {
      const int64_t rows = t.at("rows").get<int64_t>();
      for (const json& c : t.at("columns"))
        s->tables[name][c.at("name").get<std::string>()] =
            array(c.at("path").get<std::string>(), parse_dtype(c.at("dtype").get<std::string>()), rows);
    }
  return d;
}

const fs::path& Dataset::dir() const { return state_->dir; }
int64_t Dataset::num_interactions() const { return state_->interactions; }
int64_t Dataset::num_users() const { return state_->users; }
int64_t Dataset::num_items() const { return state_->items; }
Interactions Dataset::interactions() const { return state_->columns; }
const IdMap& Dataset::user_ids() const { return state_->user_ids; }
const IdMap& Dataset::item_ids() const { return state_->item_ids; }
const SideFeatures& Dataset::user_features() const { return state_->user_features; }
const SideFeatures& Dataset::item_features() const { return state_->item_features; }
const std::map<std::string, std::map<std::string, Tensor>>& Dataset::tables() const { return state_->tables; }
const std::vector<FileInfo>& Dataset::files() const { return state_->files; }
const std::string& Dataset::meta_text() const { return state_->meta_text; }

void Dataset::verify_checksums() const {
  for (const FileInfo& f : state_->files) {
    const std::string actual = sha256_file(state_->dir / f.path);
    AISLE_DATA_CHECK(actual == f.sha256, (state_->dir / f.path).string(), ": checksum mismatch (sha256 ", actual,
                ", meta.json records ", f.sha256, "): the file was changed or corrupted");
  }
}

}  // namespace aisle::data
