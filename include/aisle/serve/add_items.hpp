#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

// `aisle add-items`: products added to the shop after a model was exported get embeddings from
// their item features (category, brand, price, title words), without retraining, and a new
// artifact serves them beside the known items. Only inductive models can do it: GraphSAGE (see
// aisle/models/graphsage.hpp). Every existing user and item keeps its exact embedding.
//
// The items file is delimited text with a header: a column with the new item's external id and
// one column per item feature of the model, named as the feature unless `columns` maps it to
// another header name; other columns are ignored. An empty field is a missing value. A categorical
// value or title word the training data never had has no learned row: it is ignored and counted.
namespace aisle::serve {

struct AddItemsRequest {
  std::filesystem::path artifact;  // an exported artifact
  std::filesystem::path items;     // plain, .gz or .xz
  std::filesystem::path out;       // the new artifact; may be `artifact` itself (replaced atomically) with overwrite
  bool overwrite = false;
  std::string item_column = "item";
  std::map<std::string, std::string> columns;  // item feature -> header name, where they differ
  std::optional<std::string> delimiter;        // default: tab for .tsv/.tab files (compressed or not), else ","
  // Optional: the new items' first interactions, a delimited file with a header holding the item
  // id column (item_column) and user_column. Each known user becomes a neighbour of the item, as a
  // buyer is in training; users the artifact does not know are named and ignored.
  std::filesystem::path interactions;
  std::string user_column = "user";
};

struct AddItemsResult {
  int64_t items_before = 0, added = 0;
  std::vector<std::string> features;  // the item features read, in the model's order
  int64_t unknown_values = 0;
  std::vector<std::string> unknown_examples;  // "FILE:LINE: brand 'Acme'"
  int64_t without_attributes = 0;             // items with no buyer and no known value: the shared item row alone
  int64_t interactions = 0;                   // distinct (new item, known user) pairs used
  int64_t unknown_users = 0;                  // interaction rows whose user the artifact does not know
  std::vector<std::string> unknown_user_examples;  // "FILE:LINE: user 'u9'"
};

// Writes the new artifact: the item table and the items id map extended (new items after the
// known ones, in file order), the other files carried over, and "added_items.json" recording each
// batch (file, first item index, count) so that a reader knows which items the model never saw
// (the manifest's metrics predate them). Throws aisle::ArtifactError for a missing or corrupted
// artifact, or a graphsage one exported without what new items need; aisle::DataError naming the
// file (and line) for a missing column or a bad row (malformed, empty id, an item listed twice or
// already in the artifact, a numeric field that is not a number); aisle::Error for a bad request
// (a model that cannot embed new items, an unknown feature in `columns`, an existing `out` without
// overwrite). Nothing is written unless it all succeeds.
AddItemsResult add_items(const AddItemsRequest& request);

}  // namespace aisle::serve
