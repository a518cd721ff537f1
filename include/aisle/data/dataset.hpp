#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "aisle/data/id_map.hpp"
#include "aisle/data/interactions.hpp"
#include "aisle/data/side_features.hpp"

// The canonical dataset directory every importer writes and every model reads (format 1):
//
//   DIR/meta.json                      format, counts, value and time ranges, event counts, every
//                                      file with its dtype, element count and sha256, the source
//                                      and the import report
//   DIR/interactions/{user,item,timestamp}.i64, value.f32, event.u8, part.u8
//   DIR/{users,items}/ids.offsets.i64, ids.bytes          external ids (absent for dense ids)
//   DIR/{users,items}/<feature>.codes.i64 + .vocab.*      categorical side features
//   DIR/{users,items}/<feature>.f32                       numeric side features
//   DIR/{users,items}/<feature>.offsets.i64, .tokens.i64 + .vocab.*   token lists
//   DIR/tables/<table>/<column>.<dtype>                  extra tables (e.g. daily sales)
//
// Arrays are raw little-endian. An opened dataset memory-maps them (copy-on-write private
// mappings): columns are tensors over the file pages, nothing is copied or parsed.
namespace aisle::data {

constexpr int kDatasetFormatVersion = 1;

struct FileInfo {
  std::string path;  // relative to the dataset directory
  DType dtype;
  int64_t count = 0;
  std::string sha256;
};

class Dataset {
 public:
  // Opens DIR: checks meta.json (format, version, counts) and that every listed file exists with
  // the recorded size; with verify_checksums also recomputes every sha256. Throws aisle::Error
  // naming the file and what is wrong.
  static Dataset open(const std::filesystem::path& dir, bool verify_checksums = false);

  const std::filesystem::path& dir() const;
  int64_t num_interactions() const;
  int64_t num_users() const;
  int64_t num_items() const;

  Interactions interactions() const;  // zero-copy views of the mapped columns
  const IdMap& user_ids() const;
  const IdMap& item_ids() const;
  const SideFeatures& user_features() const;
  const SideFeatures& item_features() const;
  // Extra tables by name: column name -> 1-D tensor (all columns of a table have equal length).
  const std::map<std::string, std::map<std::string, Tensor>>& tables() const;
  const std::vector<FileInfo>& files() const;
  // meta.json as text (tools print it; models read what they need through this class).
  const std::string& meta_text() const;

  // Recomputes every file's sha256; throws naming the first file that does not match.
  void verify_checksums() const;

 private:
  struct State;
  std::shared_ptr<const State> state_;
};

// SHA-256 of a file, lowercase hex (OpenSSL). Throws naming the file if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);
std::string sha256_hex(const void* data, size_t n);

}  // namespace aisle::data
