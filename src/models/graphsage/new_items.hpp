#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aisle/core/device.hpp"
#include "aisle/io/artifact_reader.hpp"
#include "aisle/train/model.hpp"
#include "src/models/graphsage/feature_graph.hpp"

// Products added to the catalogue after export, embedded from their item features alone (what
// `aisle add-items` runs). A new item is joined to the attribute nodes of its values exactly as an
// item without interactions is in training, and embedded one layer at a time over the attribute
// nodes' states that export saved ("layer<l>.attribute_inputs"), and, when it already has buyers,
// over theirs too ("layer<l>.user_inputs"). No existing node changes, so every embedding already
// served stays as it was, and a new item gets the embedding that an item with the same values and
// the same buyers had in training.
//
// What export writes for it (artifact_extras): "item_features.json",
//   {"format": "aisle-graphsage-item-features", "format_version": 1,
//    "users": U, "items": I, "item_ids": false,
//    "features": [{"name": "category", "kind": "categorical", "nodes": 8, "vocabulary": "item_feature_0"},
//                 {"name": "price", "kind": "numeric", "nodes": 8, "bounds": [1.5, 2.25, ...]}, ...]}
// (U and I as in training; attribute node a's input row is token U + a, the shared item row U + A),
// and one id map "item_feature_<k>" per categorical or token feature k: its vocabulary.
namespace aisle::models::graphsage {

inline constexpr const char* kItemFeaturesFile = "item_features.json";

train::ArtifactExtras item_feature_extras(const FeatureGraph& graph);

// The new items' item features as text, as a file gives them: cells.at(feature)[k] is item k's
// field ("" when missing); where[k] names its place ("FILE:LINE") in messages. users, when not
// empty, has one entry per item: the (dense) ids of known users who already interacted with it,
// which join it as neighbours as its buyers would in training (needs the users' saved states).
struct NewItemCells {
  std::vector<std::string> where;
  std::map<std::string, std::vector<std::string>> cells;
  std::vector<std::vector<int64_t>> users;
};

struct ItemFeatureInfo {
  std::string name, kind;  // kind: "categorical", "numeric" or "tokens"
};
// The item features a new item is read by, in the artifact's order. Throws aisle::ArtifactError
// when the artifact lacks what embedding new items needs (one exported before this existed).
std::vector<ItemFeatureInfo> new_item_features(const io::ArtifactReader& artifact);

struct NewItemEmbeddings {
  Tensor embeddings;                          // f32 [n, width] on the requested device
  int64_t unknown_values = 0;                 // values without an attribute node (unseen in training): ignored
  std::vector<std::string> unknown_examples;  // the first few, "FILE:LINE: brand 'Acme'"
  int64_t without_attributes = 0;             // items with no buyer and no value that has a node (only the shared item row)
};

// Throws aisle::ArtifactError for an artifact that cannot do it (above, or mis-shaped tensors),
// aisle::DataError naming where[k], the feature and the text of a numeric field that is not a
// number, and aisle::Error when `items` lacks one of the features.
NewItemEmbeddings embed_new_items(const io::ArtifactReader& artifact, const NewItemCells& items,
                                  Device device = Device::cpu());

}  // namespace aisle::models::graphsage
