#include "src/models/graphsage/new_items.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "aisle/autograd/embedding.hpp"
#include "aisle/autograd/grad_mode.hpp"
#include "aisle/core/error.hpp"
#include "aisle/data/fields.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/scatter.hpp"
#include "src/models/graphsage/sage_layers.hpp"

namespace aisle::models::graphsage {
namespace {

constexpr const char* kLayoutFormat = "aisle-graphsage-item-features";
constexpr int kLayoutVersion = 1;
constexpr size_t kUnknownExamples = 3;

// By position, since id map roles are [a-z0-9_]+ and feature names need not be.
std::string vocabulary_role(size_t feature) { return "item_feature_" + std::to_string(feature); }

// One feature of item_features.json, with what reads its values.
struct SavedFeature {
  std::string name, kind;
  int64_t first = 0, nodes = 0;  // attribute nodes [first, first + nodes), counted from the first attribute node
  data::IdMap vocab;
  std::vector<float> bounds;
};

struct SavedLayout {
  int64_t users = 0, items = 0, attribute_nodes = 0;
  bool item_ids = false;
  std::vector<SavedFeature> features;
};

// The trained pieces a new item passes through.
struct SavedModel {
  Config config;
  Params params;
  std::vector<Tensor> attribute_inputs;  // per layer, [A, d_l]
  std::vector<Tensor> user_inputs;       // per layer, [U, d_l]; only when new items have buyers
};

std::string where_in(const io::ArtifactReader& artifact, const std::string& file) {
  return (artifact.dir() / file).string();
}

SavedLayout read_layout(const io::ArtifactReader& artifact) {
  AISLE_ARTIFACT_CHECK(artifact.has_file(kItemFeaturesFile), artifact.dir().string(), ": has no ", kItemFeaturesFile,
                       " (the ", artifact.manifest().model_type,
                       " artifact was exported before new items could be added); export it again from its run");
  const std::string where = where_in(artifact, kItemFeaturesFile);
  SavedLayout layout;
  try {
    const nlohmann::json j = nlohmann::json::parse(artifact.text(kItemFeaturesFile));
    AISLE_ARTIFACT_CHECK(j.value("format", "") == kLayoutFormat, where, ": 'format' is not '", kLayoutFormat, "'");
    AISLE_ARTIFACT_CHECK(j.value("format_version", 0) == kLayoutVersion, where, ": format_version ",
                         j.value("format_version", 0), " is not ", kLayoutVersion);
    layout.users = j.at("users").get<int64_t>();
    layout.items = j.at("items").get<int64_t>();
    layout.item_ids = j.at("item_ids").get<bool>();
    AISLE_ARTIFACT_CHECK(layout.users >= 0 && layout.items >= 0, where, ": negative users or items");
    for (const nlohmann::json& f : j.at("features")) {
      SavedFeature s;
      s.name = f.at("name").get<std::string>();
      s.kind = f.at("kind").get<std::string>();
      s.nodes = f.at("nodes").get<int64_t>();
      s.first = layout.attribute_nodes;
      AISLE_ARTIFACT_CHECK(s.nodes >= 0, where, ": feature '", s.name, "' has ", s.nodes, " nodes");
      if (s.kind == "numeric") {
        s.bounds = f.at("bounds").get<std::vector<float>>();
        AISLE_ARTIFACT_CHECK(static_cast<int64_t>(s.bounds.size()) + 1 == s.nodes &&
                                 std::is_sorted(s.bounds.begin(), s.bounds.end()),
                             where, ": feature '", s.name, "' needs ", s.nodes - 1, " increasing bounds, has ",
                             s.bounds.size());
      } else {
        AISLE_ARTIFACT_CHECK(s.kind == "categorical" || s.kind == "tokens", where, ": feature '", s.name,
                             "' has unknown kind '", s.kind, "'");
        const std::string role = f.at("vocabulary").get<std::string>();
        AISLE_ARTIFACT_CHECK(artifact.has_id_map(role), where, ": feature '", s.name, "' names vocabulary '", role,
                             "', which the manifest does not list");
        s.vocab = artifact.id_map(role);
        AISLE_ARTIFACT_CHECK(s.vocab.size() == s.nodes, where, ": feature '", s.name, "' has ", s.nodes,
                             " nodes but its vocabulary ", s.vocab.size(), " values");
      }
      layout.attribute_nodes += s.nodes;
      layout.features.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    AISLE_ARTIFACT_FAIL(where, ": ", e.what());
  }
  return layout;
}

SavedModel read_model(const io::ArtifactReader& artifact, const SavedLayout& layout, bool with_users, Device device) {
  const std::string where = artifact.manifest().weights.empty() ? artifact.dir().string()
                                                                : where_in(artifact, artifact.manifest().weights);
  const std::map<std::string, Tensor>& tensors = artifact.tensors();
  auto get = [&](const std::string& name, Shape shape) -> Tensor {
    const auto it = tensors.find(name);
    AISLE_ARTIFACT_CHECK(it != tensors.end(), where, ": no tensor '", name, "' (needed to embed new items)");
    AISLE_ARTIFACT_CHECK(it->second.dtype() == DType::f32 && it->second.shape() == shape, where, ": tensor '", name,
                         "' is ", it->second.describe(), ", expected f32 ", shape_str(shape));
    return it->second.to(device);
  };
  SavedModel m;
  try {
    const nlohmann::json h = nlohmann::json::parse(artifact.manifest().hyperparameters);
    const std::string aggregator = h.at("aggregator").get<std::string>();
    AISLE_ARTIFACT_CHECK(aggregator == "mean" || aggregator == "pool", "unknown aggregator '", aggregator, "'");
    m.config.aggregator = aggregator == "mean" ? Aggregator::mean : Aggregator::pool;
    m.config.normalize = h.at("normalize").get<bool>();
    m.config.layer_sizes = h.at("layer_sizes").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    AISLE_ARTIFACT_FAIL(where_in(artifact, std::string(io::kManifestFile)), ": graphsage hyperparameters: ", e.what());
  }
  const auto tokens = tensors.find("input_tokens");
  AISLE_ARTIFACT_CHECK(tokens != tensors.end() && tokens->second.dim() == 2, where,
                       ": no 2-D tensor 'input_tokens' (needed to embed new items)");
  const int64_t factors = tokens->second.size(1);
  const int64_t rows = layout.users + layout.attribute_nodes + 1 + (layout.item_ids ? layout.items : 0);
  m.params.tokens = Var(get("input_tokens", {rows, factors}));
  int64_t d_in = factors;
  for (size_t l = 0; l < m.config.layer_sizes.size(); ++l) {
    const std::string p = "layer" + std::to_string(l) + ".";
    const int64_t d_out = m.config.layer_sizes[l];
    m.attribute_inputs.push_back(get(p + "attribute_inputs", {layout.attribute_nodes, d_in}));
    if (with_users) {
      AISLE_ARTIFACT_CHECK(tensors.count(p + "user_inputs") != 0, where, ": no tensor '", p,
                           "user_inputs': the model was exported without the users' states "
                           "(model.export_user_states: false), so new items cannot take buyers");
      m.user_inputs.push_back(get(p + "user_inputs", {layout.users, d_in}));
    }
    Layer layer;
    layer.w_self = Var(get(p + "w_self", {d_in, d_out}));
    layer.w_neigh = Var(get(p + "w_neigh", {d_in, d_out}));
    layer.bias = Var(get(p + "bias", {d_out}));
    if (m.config.aggregator == Aggregator::pool) {
      layer.w_pool = Var(get(p + "w_pool", {d_in, d_in}));
      layer.b_pool = Var(get(p + "b_pool", {d_in}));
    }
    m.params.layers.push_back(layer);
    d_in = d_out;
  }
  return m;
}

SavedLayout read_checked_layout(const io::ArtifactReader& artifact) {
  AISLE_ARTIFACT_CHECK(artifact.manifest().model_type == "graphsage", artifact.dir().string(), ": holds a '",
                       artifact.manifest().model_type, "' model, not graphsage");
  return read_layout(artifact);
}

}  // namespace

train::ArtifactExtras item_feature_extras(const FeatureGraph& graph) {
  train::ArtifactExtras extras;
  nlohmann::ordered_json features = nlohmann::ordered_json::array();
  for (size_t k = 0; k < graph.attributes.size(); ++k) {
    const AttributeNodes& a = graph.attributes[k];
    nlohmann::ordered_json f = {{"name", a.feature}, {"kind", a.kind}, {"nodes", a.count}};
    if (a.kind == "numeric") {
      f["bounds"] = a.bounds;
    } else {
      f["vocabulary"] = vocabulary_role(k);
      extras.id_maps.emplace(vocabulary_role(k), a.vocab);
    }
    features.push_back(std::move(f));
  }
  const bool item_ids = graph.num_tokens > graph.num_users + graph.num_attribute_nodes() + 1;
  const nlohmann::ordered_json layout = {{"format", kLayoutFormat}, {"format_version", kLayoutVersion},
                                         {"users", graph.num_users}, {"items", graph.num_items},
                                         {"item_ids", item_ids}, {"features", std::move(features)}};
  extras.files.emplace(kItemFeaturesFile, layout.dump(2) + "\n");
  return extras;
}

std::vector<ItemFeatureInfo> new_item_features(const io::ArtifactReader& artifact) {
  std::vector<ItemFeatureInfo> out;
  for (const SavedFeature& f : read_checked_layout(artifact).features) out.push_back({f.name, f.kind});
  return out;
}

NewItemEmbeddings embed_new_items(const io::ArtifactReader& artifact, const NewItemCells& items, Device device) {
  const SavedLayout layout = read_checked_layout(artifact);
  const auto n = static_cast<int64_t>(items.where.size());
  AISLE_CHECK(n > 0, "add-items: no new items given");
  AISLE_CHECK(items.users.empty() || static_cast<int64_t>(items.users.size()) == n, "add-items: buyers given for ",
              items.users.size(), " of ", n, " items");
  // Each item's buyers, sorted and distinct (a training row lists its users in id order).
  std::vector<std::vector<int64_t>> buyers(static_cast<size_t>(n));
  std::vector<int64_t> all_buyers;
  for (size_t k = 0; k < items.users.size(); ++k) {
    auto& b = buyers[k] = items.users[k];
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
    for (const int64_t u : b) {
      AISLE_CHECK(u >= 0 && u < layout.users, "add-items: user ", u, " is outside [0, ", layout.users, ")");
      all_buyers.push_back(u);
    }
  }
  std::sort(all_buyers.begin(), all_buyers.end());
  all_buyers.erase(std::unique(all_buyers.begin(), all_buyers.end()), all_buyers.end());
  const SavedModel saved = read_model(artifact, layout, !all_buyers.empty(), device);
  NewItemEmbeddings out;

  // Each item's attribute nodes, sorted and distinct: the order of an item's row in the training
  // graph, so sums run in the same order.
  std::vector<std::vector<int64_t>> attributes(static_cast<size_t>(n));
  auto unknown = [&](int64_t k, const SavedFeature& f, std::string_view value) {
    if (out.unknown_examples.size() < kUnknownExamples)
      out.unknown_examples.push_back(items.where[static_cast<size_t>(k)] + ": " + f.name + " " +
                                     data::quote_field(value));
    ++out.unknown_values;
  };
  std::string scratch;
  std::vector<std::string_view> words;
  for (const SavedFeature& f : layout.features) {
    const auto cells = items.cells.find(f.name);
    AISLE_CHECK(cells != items.cells.end() && static_cast<int64_t>(cells->second.size()) == n,
                "add-items: no values for item feature '", f.name, "'");
    for (int64_t k = 0; k < n; ++k) {
      const std::string_view text = data::trim_blanks(cells->second[static_cast<size_t>(k)]);
      if (text.empty()) continue;
      auto& mine = attributes[static_cast<size_t>(k)];
      if (f.kind == "numeric") {
        double value = 0;
        if (const char* why = data::parse_double(text, value))
          AISLE_DATA_FAIL(items.where[static_cast<size_t>(k)], ": item feature '", f.name, "': ",
                          data::quote_field(text), " ", why);
        // Bucketed as the training values were: as a float, by the saved quantile bounds.
        const auto v = static_cast<float>(value);
        mine.push_back(f.first + (std::upper_bound(f.bounds.begin(), f.bounds.end(), v) - f.bounds.begin()));
      } else if (f.kind == "categorical") {
        if (const auto code = f.vocab.find(text)) mine.push_back(f.first + *code);
        else unknown(k, f, text);
      } else {
        data::word_tokens(text, scratch, words);
        for (const std::string_view w : words) {
          if (const auto token = f.vocab.find(w)) mine.push_back(f.first + *token);
          else unknown(k, f, w);
        }
      }
    }
  }
  for (size_t k = 0; k < attributes.size(); ++k) {
    auto& a = attributes[k];
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    out.without_attributes += a.empty() && buyers[k].empty();
  }

  NoGradGuard no_grad;
  // Layer 0's input: the mean of the item's attribute rows and the shared item row, as
  // FeatureGraph::input_bags gives it (a new item has no id row of its own).
  const int64_t item_token = layout.users + layout.attribute_nodes;
  std::vector<int64_t> ids, offsets{0};
  for (const auto& a : attributes) {
    for (const int64_t node : a) ids.push_back(layout.users + node);
    ids.push_back(item_token);
    offsets.push_back(static_cast<int64_t>(ids.size()));
  }
  Tensor h = embedding_bag(saved.params.tokens, Tensor::from_vector(ids).to(device),
                           Tensor::from_vector(offsets).to(device), ops::BagMode::mean)
                 .value();

  // Each layer runs on a block whose dst nodes are the new items and whose src nodes are the new
  // items, every attribute node and the buyers (at their saved states). A row lists the buyers,
  // then the attribute nodes, the order of an item's row in the training graph, weighted 1/deg.
  const auto num_buyers = static_cast<int64_t>(all_buyers.size());
  std::vector<int64_t> row_ptr{0}, col;
  std::vector<float> values;
  for (size_t k = 0; k < attributes.size(); ++k) {
    const auto& a = attributes[k];
    const auto& b = buyers[k];
    const float weight = 1.0f / static_cast<float>(a.size() + b.size());
    for (const int64_t u : b)
      col.push_back(n + layout.attribute_nodes +
                    (std::lower_bound(all_buyers.begin(), all_buyers.end(), u) - all_buyers.begin()));
    for (const int64_t node : a) col.push_back(n + node);
    values.resize(col.size(), weight);
    row_ptr.push_back(static_cast<int64_t>(col.size()));
  }
  const ops::Csr block = ops::make_csr(Tensor::from_vector(row_ptr), Tensor::from_vector(col),
                                       Tensor::from_vector(values), n, n + layout.attribute_nodes + num_buyers);
  const Tensor buyer_ids = Tensor::from_vector(all_buyers).to(device);
  const LayerGraph graph = layer_graph(block, n, saved.config.aggregator, device);
  const size_t layers = saved.params.layers.size();
  for (size_t l = 0; l < layers; ++l) {
    const Tensor src = num_buyers == 0 ? ops::concat({h, saved.attribute_inputs[l]}, 0)
                                       : ops::concat({h, saved.attribute_inputs[l],
                                                      ops::gather_rows(saved.user_inputs[l], buyer_ids)}, 0);
    h = sage_layer(saved.params.layers[l], Var(src), graph, saved.config, l + 1 == layers).value();
  }
  out.embeddings = h;
  return out;
}

}  // namespace aisle::models::graphsage
