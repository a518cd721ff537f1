#include "aisle/serve/add_items.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "aisle/core/error.hpp"
#include "aisle/data/delimited.hpp"
#include "aisle/data/fields.hpp"
#include "aisle/data/importers.hpp"
#include "aisle/io/artifact_reader.hpp"
#include "aisle/io/artifact_writer.hpp"
#include "aisle/ops/index.hpp"
#include "src/models/graphsage/new_items.hpp"

namespace aisle::serve {

namespace fs = std::filesystem;

namespace {

constexpr const char* kAddedItemsFile = "added_items.json";
constexpr const char* kItemTable = "item_embeddings";

data::Dialect file_dialect(const AddItemsRequest& request, const fs::path& file) {
  data::Dialect d;
  d.header = true;
  std::string delimiter = request.delimiter.value_or("");
  if (delimiter.empty()) {
    fs::path name = file.filename();
    if (name.extension() == ".gz" || name.extension() == ".xz") name = name.stem();
    delimiter = name.extension() == ".tsv" || name.extension() == ".tab" ? "\t" : ",";
  }
  d.delimiter = data::parse_delimiter(delimiter);
  if (d.delimiter == "whitespace") {
    d.whitespace = true;
    d.quotes = false;
  }
  return d;
}

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// The header's column `name`, or a DataError naming the file, what the column is for and the header.
size_t header_column(data::DelimitedReader& reader, const std::string& name, const std::string& what) {
  reader.start();
  const std::vector<std::string>& header = reader.header();
  AISLE_DATA_CHECK(!header.empty(), reader.name(), ": is empty (it needs a header line naming its columns)");
  for (size_t c = 0; c < header.size(); ++c)
    if (data::trim_blanks(header[c]) == name) return c;
  AISLE_DATA_FAIL(reader.name(), ": no column '", name, "' for ", what, " (the header has: ", list(header), ")");
}

// "FILE:LINE" of the current record, after checking it is well formed and complete.
std::string checked_row(const data::DelimitedReader& reader) {
  const std::string where = reader.name() + ":" + std::to_string(reader.line());
  AISLE_DATA_CHECK(reader.error() == nullptr, where, ": ", reader.error());
  AISLE_DATA_CHECK(reader.size() == reader.header().size(), where, ": ", reader.size(),
                   " fields, but the header names ", reader.header().size());
  return where;
}

struct ReadItems {
  std::vector<std::string> ids;
  models::graphsage::NewItemCells cells;
};

// The new items of the file, checked row by row against each other and the artifact's items.
ReadItems read_items(const AddItemsRequest& request, const std::vector<models::graphsage::ItemFeatureInfo>& features,
                     const data::IdMap& known) {
  data::DelimitedReader reader(request.items, file_dialect(request, request.items));
  const std::string file = reader.name();
  const size_t id_column = header_column(reader, request.item_column, "the item id (--item-column)");
  std::vector<std::pair<std::string, size_t>> feature_columns;
  for (const auto& f : features) {
    const auto mapped = request.columns.find(f.name);
    const std::string name = mapped == request.columns.end() ? f.name : mapped->second;
    feature_columns.emplace_back(f.name, header_column(reader, name, "item feature '" + f.name + "' (" + f.kind +
                                                          "; name another column with --map " + f.name + "=COLUMN)"));
  }

  ReadItems out;
  std::unordered_map<std::string, int64_t> first_line;
  while (reader.next()) {
    const std::string where = checked_row(reader);
    const std::string id(data::trim_blanks(reader[id_column]));
    AISLE_DATA_CHECK(!id.empty(), where, ": column '", request.item_column, "' (the item id) is empty");
    const auto [seen, fresh] = first_line.emplace(id, reader.line());
    AISLE_DATA_CHECK(fresh, where, ": item ", data::quote_field(id), " is listed twice (first on line ", seen->second,
                     ")");
    if (const auto index = known.find(id))
      AISLE_DATA_FAIL(where, ": item ", data::quote_field(id), " is already in the artifact (item index ", *index,
                      "); add-items only adds new items");
    out.ids.push_back(id);
    out.cells.where.push_back(where);
    for (const auto& [feature, c] : feature_columns) out.cells.cells[feature].emplace_back(reader[c]);
  }
  AISLE_DATA_CHECK(!out.ids.empty(), file, ": has a header but no items");
  return out;
}

// The known users who already interacted with each new item (--interactions).
struct ReadBuyers {
  int64_t pairs = 0, unknown_users = 0;
  std::vector<std::string> unknown_examples;
};
ReadBuyers read_buyers(const AddItemsRequest& request, const ReadItems& items, const data::IdMap& users,
                       models::graphsage::NewItemCells& cells) {
  ReadBuyers out;
  if (request.interactions.empty()) return out;
  std::unordered_map<std::string, size_t> index;
  for (size_t k = 0; k < items.ids.size(); ++k) index.emplace(items.ids[k], k);
  cells.users.assign(items.ids.size(), {});
  data::DelimitedReader reader(request.interactions, file_dialect(request, request.interactions));
  const size_t item_column = header_column(reader, request.item_column, "the item id (--item-column)");
  const size_t user_column = header_column(reader, request.user_column, "the user id (--user-column)");
  while (reader.next()) {
    const std::string where = checked_row(reader);
    const std::string_view item = data::trim_blanks(reader[item_column]), user = data::trim_blanks(reader[user_column]);
    const auto k = index.find(std::string(item));
    AISLE_DATA_CHECK(k != index.end(), where, ": item ", data::quote_field(item), " is not one of the new items of ",
                     request.items.string());
    if (const auto u = users.find(user)) {
      cells.users[k->second].push_back(*u);
    } else {
      if (out.unknown_examples.size() < 3) out.unknown_examples.push_back(where + ": user " + data::quote_field(user));
      ++out.unknown_users;
    }
  }
  for (auto& u : cells.users) {
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
    out.pairs += static_cast<int64_t>(u.size());
  }
  return out;
}

data::IdMap extended_ids(const data::IdMap& known, const std::vector<std::string>& added) {
  data::IdInterner ids;
  for (int64_t i = 0; i < known.size(); ++i) ids.intern(known.external(i));
  for (const std::string& id : added) ids.intern(id);
  return ids.to_map();
}

// added_items.json: the batches added so far, this one last.
std::string added_items_record(const io::ArtifactReader& reader, const AddItemsRequest& request,
                               int64_t first_item, const models::graphsage::NewItemEmbeddings& embedded,
                               int64_t interactions) {
  nlohmann::ordered_json record = {{"format", "aisle-added-items"}, {"batches", nlohmann::ordered_json::array()}};
  if (reader.has_file(kAddedItemsFile)) {
    try {
      record["batches"] = nlohmann::ordered_json::parse(reader.text(kAddedItemsFile)).at("batches");
    } catch (const nlohmann::json::exception& e) {
      AISLE_ARTIFACT_FAIL((reader.dir() / kAddedItemsFile).string(), ": ", e.what());
    }
  }
  record["batches"].push_back({{"file", request.items.filename().string()},
                               {"first_item_index", first_item},
                               {"items", embedded.embeddings.size(0)},
                               {"interactions", interactions},
                               {"unknown_values", embedded.unknown_values},
                               {"without_attributes", embedded.without_attributes}});
  return record.dump(2) + "\n";
}

}  // namespace

AddItemsResult add_items(const AddItemsRequest& request) {
  AISLE_CHECK(!request.out.empty(), "add-items: no output artifact given");
  AISLE_CHECK(request.overwrite || !fs::exists(request.out), request.out.string(),
              ": already exists; pass --force to replace it");
  const io::ArtifactReader reader = io::ArtifactReader::open(request.artifact);
  const io::Manifest& manifest = reader.manifest();
  AISLE_CHECK(manifest.model_type == "graphsage", "add-items: ", request.artifact.string(), " holds a '",
              manifest.model_type, "' model, which cannot embed items it was not trained on; only graphsage "
              "embeds new items from their features");
  const std::vector<models::graphsage::ItemFeatureInfo> features = models::graphsage::new_item_features(reader);
  std::set<std::string> names;
  for (const auto& f : features) names.insert(f.name);
  for (const auto& [feature, column] : request.columns)
    AISLE_CHECK(names.count(feature) != 0, "add-items: --map names '", feature,
                "', which is not an item feature of the model (it reads: ",
                list(std::vector<std::string>(names.begin(), names.end())), ")");

  const data::IdMap& known = reader.item_ids();
  ReadItems items = read_items(request, features, known);
  const ReadBuyers buyers = read_buyers(request, items, reader.user_ids(), items.cells);
  const models::graphsage::NewItemEmbeddings embedded = models::graphsage::embed_new_items(reader, items.cells);

  std::map<std::string, Tensor> weights = reader.tensors();
  const Tensor& table = reader.tensor(kItemTable);
  AISLE_ARTIFACT_CHECK(table.dtype() == DType::f32 && table.dim() == 2 && table.size(0) == known.size() &&
                           table.size(1) == embedded.embeddings.size(1),
                       (reader.dir() / manifest.weights).string(), ": '", kItemTable, "' is ", table.describe(),
                       ", expected f32 [", known.size(), ", ", embedded.embeddings.size(1), "]");
  weights[kItemTable] = ops::concat({table, embedded.embeddings}, 0);

  std::map<std::string, int64_t> dimensions = manifest.dimensions;
  dimensions["items"] = known.size() + embedded.embeddings.size(0);
  io::ArtifactWriter writer(request.out, request.overwrite);
  writer.set_model(manifest.model_type, manifest.hyperparameters, dimensions);
  writer.set_metrics(manifest.metrics);
  writer.write_weights(weights, reader.weights_metadata());
  std::set<std::string> rewritten{manifest.weights, kAddedItemsFile};
  for (const auto& [role, path] : manifest.id_maps) {
    writer.write_id_map(role, role == "items" ? extended_ids(known, items.ids) : reader.id_map(role));
    rewritten.insert(path);
  }
  for (const io::ArtifactFile& f : manifest.files)
    if (rewritten.count(f.path) == 0) writer.copy_file(f.path, reader.file(f.path));
  writer.write_file(kAddedItemsFile, added_items_record(reader, request, known.size(), embedded, buyers.pairs));
  writer.finish();

  AddItemsResult result;
  result.items_before = known.size();
  result.added = embedded.embeddings.size(0);
  for (const auto& f : features) result.features.push_back(f.name);
  result.unknown_values = embedded.unknown_values;
  result.unknown_examples = embedded.unknown_examples;
  result.without_attributes = embedded.without_attributes;
  result.interactions = buyers.pairs;
  result.unknown_users = buyers.unknown_users;
  result.unknown_user_examples = buyers.unknown_examples;
  return result;
}

}  // namespace aisle::serve
