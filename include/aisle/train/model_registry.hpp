#pragma once
#include <memory>
#include <string>
#include <vector>

#include "aisle/recipe/schema.hpp"
#include "aisle/train/model.hpp"

// The catalogue of model types a recipe may name (model.type) and an artifact may hold.
namespace aisle::train {

struct ModelInfo {
  std::string type;     // "mf", "bpr", "als", "popularity", "item_knn"
  Feedback feedback;
  std::string summary;  // one line for --help and errors
  // Adds the keys that exist only for this type (model.*, and train.* keys only it uses) as
  // variants of model.type.
  void (*add_keys)(recipe::Schema& schema);
  std::unique_ptr<Model> (*create)();
};

const std::vector<ModelInfo>& model_catalogue();
// Throws aisle::Error listing the known types (with a near-miss suggestion) for an unknown one.
const ModelInfo& model_info(const std::string& type);
std::unique_ptr<Model> create_model(const std::string& type);

}  // namespace aisle::train
