#include "aisle/train/export.hpp"

#include <filesystem>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/io/artifact_writer.hpp"

namespace aisle::train {

namespace {

int64_t dimension_or(const std::map<std::string, int64_t>& dims, const char* name, int64_t fallback) {
  const auto it = dims.find(name);
  return it == dims.end() ? fallback : it->second;
}

// seen.safetensors: "offsets" i64 [users + 1], "items" i64 [nnz] (sorted within a user, as the
// index keeps them).
std::map<std::string, Tensor> seen_tensors(const data::UserItemIndex& seen) {
  std::vector<int64_t> offsets(static_cast<size_t>(seen.num_users()) + 1, 0), items;
  for (int64_t u = 0; u < seen.num_users(); ++u) {
    items.insert(items.end(), seen.begin(u), seen.end(u));
    offsets[static_cast<size_t>(u) + 1] = static_cast<int64_t>(items.size());
  }
  return {{"offsets", Tensor::from_vector(offsets)}, {"items", Tensor::from_vector(items)}};
}

}  // namespace

void export_artifact(const ExportRequest& request) {
  const Model* model = request.model;
  AISLE_CHECK(model != nullptr, "export: no model given");
  AISLE_CHECK(!request.dir.empty(), "export: no output directory given");
  AISLE_CHECK(request.seen != nullptr, "export: no training items (seen) given for ", request.dir.string());
  AISLE_CHECK(request.overwrite || !std::filesystem::exists(request.dir), request.dir.string(),
              ": already exists; pass --force (or set export.overwrite: true) to replace it");

  std::map<std::string, int64_t> dims = model->dimensions();
  const int64_t users = dimension_or(dims, "users", request.user_ids.size());
  const int64_t items = dimension_or(dims, "items", request.item_ids.size());
  dims["users"] = users;
  dims["items"] = items;
  AISLE_CHECK(request.user_ids.size() == users, "export: the user id map has ", request.user_ids.size(),
              " ids, the model ", users, " users");
  AISLE_CHECK(request.item_ids.size() == items, "export: the item id map has ", request.item_ids.size(),
              " ids, the model ", items, " items");
  AISLE_CHECK(request.seen->num_users() == users && request.seen->num_items() == items, "export: the training "
              "items cover ", request.seen->num_users(), " users x ", request.seen->num_items(), " items, the model ",
              users, " x ", items);

  io::ArtifactWriter writer(request.dir, request.overwrite);
  writer.set_model(model->type(), model->hyperparameters_json(), dims);
  writer.write_weights(model->weights(), {{"model_type", model->type()}});
  writer.write_id_map("users", request.user_ids);
  writer.write_id_map("items", request.item_ids);
  writer.write_tensors("seen.safetensors", seen_tensors(*request.seen), {{"format", "aisle-seen"}});
  const ArtifactExtras extras = model->artifact_extras();
  for (const auto& [role, map] : extras.id_maps) {
    AISLE_CHECK(role != "users" && role != "items", "export: model ", model->type(), " names an extra id map '",
                role, "', which is reserved");
    writer.write_id_map(role, map);
  }
  for (const auto& [path, contents] : extras.files) writer.write_file(path, contents);
  writer.set_metrics(request.metrics);
  writer.finish();
}

}  // namespace aisle::train
