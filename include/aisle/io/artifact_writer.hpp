#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "aisle/data/id_map.hpp"
#include "aisle/io/manifest.hpp"
#include "aisle/tensor/tensor.hpp"

namespace aisle::io {

// Builds an artifact directory (see manifest.hpp): files are written into a hidden temporary
// directory beside DIR, and finish() adds manifest.json with every file's size and SHA-256 and
// only then moves the whole directory into place, so DIR is never seen half-written. Model-
// agnostic: the model layer decides which tensors, id maps and other files make up a model.
//
//   ArtifactWriter w(out_dir);
//   w.set_model("bpr", R"({"factors": 64})", {{"users", nu}, {"items", ni}, {"factors", 64}});
//   w.write_weights({{"user_factors", P}, {"item_factors", Q}});
//   w.write_id_map("users", dataset.user_ids());
//   w.write_id_map("items", dataset.item_ids());
//   w.set_metrics({{"recall@20", 0.12}});
//   w.finish();
class ArtifactWriter {
 public:
  // Refuses an existing DIR unless `overwrite`; even then DIR must be an empty directory or an
  // artifact (contain manifest.json), so a mistyped path never replaces an unrelated directory.
  // The replacement is atomic where the file system supports renameat2(RENAME_EXCHANGE).
  explicit ArtifactWriter(std::filesystem::path dir, bool overwrite = false);
  ~ArtifactWriter();  // an unfinished artifact leaves nothing behind
  ArtifactWriter(const ArtifactWriter&) = delete;
  ArtifactWriter& operator=(const ArtifactWriter&) = delete;

  // `hyperparameters_json` must be a JSON object (e.g. the recipe's model section).
  void set_model(std::string type, std::string_view hyperparameters_json = "{}",
                 std::map<std::string, int64_t> dimensions = {});
  void set_metrics(std::map<std::string, double> metrics);

  // "weights.safetensors", recorded as the manifest's "weights".
  void write_weights(const std::map<std::string, Tensor>& tensors,
                     const std::map<std::string, std::string>& metadata = {});
  // "<role>.ids.safetensors" (id_map_file.hpp), recorded under "id_maps".
  void write_id_map(const std::string& role, const data::IdMap& map);
  // Any other file, at a relative path ('/' makes subdirectories).
  void write_tensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                     const std::map<std::string, std::string>& metadata = {});
  void write_file(const std::string& path, std::string_view contents);
  void copy_file(const std::string& path, const std::filesystem::path& source);

  // Writes manifest.json and moves the artifact to DIR. Requires set_model().
  void finish();
  const std::filesystem::path& dir() const;

 private:
  std::filesystem::path claim(const std::string& path);  // checks and reserves a relative path
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace aisle::io
