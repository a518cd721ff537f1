#pragma once
#include <filesystem>
#include <map>
#include <string>

#include "aisle/data/id_map.hpp"
#include "aisle/data/user_index.hpp"
#include "aisle/train/model.hpp"

// Writes a trained model as an artifact directory (io/manifest.hpp), the form `aisle recommend`,
// aisle::Artifact::load and Python's safetensors read:
//   manifest.json              model type, hyperparameters, dimensions, metrics, versions, sha256s
//   weights.safetensors        model.weights()
//   users.ids.safetensors, items.ids.safetensors    external ids (io/id_map_file.hpp)
//   seen.safetensors           each user's training items, for --exclude-seen: "offsets" i64
//                              [users + 1] and "items" i64 [nnz], sorted within a user
//   model.artifact_extras()    what a later command needs (GraphSAGE: item_features.json and
//                              item_feature_<k>.ids.safetensors, read by `aisle add-items`)
namespace aisle::train {

struct ExportRequest {
  const Model* model = nullptr;
  data::IdMap user_ids, item_ids;          // sizes must equal the model's users / items
  const data::UserItemIndex* seen = nullptr;  // training items per user
  std::map<std::string, double> metrics;   // the evaluation at export (may be empty)
  std::filesystem::path dir;
  bool overwrite = false;
};

// Atomic (io::ArtifactWriter): DIR appears complete or not at all. Throws aisle::Error naming DIR
// when it exists and overwrite is false.
void export_artifact(const ExportRequest& request);

}  // namespace aisle::train
