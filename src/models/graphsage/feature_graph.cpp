#include "src/models/graphsage/feature_graph.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"

namespace aisle::models::graphsage {
namespace {

constexpr const char* kWhere = "graphsage: model.item_features";

std::string available(const data::SideFeatures* f) {
  std::string names;
  if (f != nullptr) {
    auto add = [&names](const std::string& n) { names += (names.empty() ? "" : ", ") + n; };
    for (const auto& [n, _] : f->categorical) add(n);
    for (const auto& [n, _] : f->numeric) add(n);
    for (const auto& [n, _] : f->tokens) add(n);
  }
  return names.empty() ? "none" : names;
}

void check_length(const std::string& feature, int64_t length, int64_t num_items) {
  AISLE_CHECK(length == num_items, kWhere, ": item feature '", feature, "' has ", length,
              " rows but the catalogue has ", num_items, " items");
}

// Appends one feature's attribute nodes and each item's values (as attribute node ids).
void add_feature(const data::SideFeatures& f, const std::string& name, const FeatureGraphOptions& options,
                 int64_t num_items, int64_t& next_node, std::vector<AttributeNodes>& attributes,
                 std::vector<std::vector<int64_t>>& item_values) {
  AttributeNodes a;
  a.feature = name;
  a.first_node = next_node;
  if (const auto c = f.categorical.find(name); c != f.categorical.end()) {
    a.kind = "categorical";
    a.vocab = c->second.vocab;
    a.count = a.vocab.size();
    check_length(name, c->second.codes.numel(), num_items);
    const std::vector<int64_t> codes = c->second.codes.to(DType::i64).to_vector<int64_t>();
    for (int64_t i = 0; i < num_items; ++i) {
      const int64_t code = codes[static_cast<size_t>(i)];
      if (code < 0) continue;
      AISLE_CHECK(code < a.count, kWhere, ": item ", i, " has code ", code, " of feature '", name,
                  "', outside its vocabulary of ", a.count);
      item_values[static_cast<size_t>(i)].push_back(a.first_node + code);
    }
  } else if (const auto n = f.numeric.find(name); n != f.numeric.end()) {
    a.kind = "numeric";
    check_length(name, n->second.values.numel(), num_items);
    const std::vector<float> values = n->second.values.to(DType::f32).to_vector<float>();
    a.bounds = quantile_bounds(values, options.numeric_buckets);
    const std::vector<float>& bounds = a.bounds;
    a.count = static_cast<int64_t>(bounds.size()) + 1;
    for (int64_t i = 0; i < num_items; ++i) {
      const float v = values[static_cast<size_t>(i)];
      if (std::isnan(v)) continue;
      const auto bucket = std::upper_bound(bounds.begin(), bounds.end(), v) - bounds.begin();
      item_values[static_cast<size_t>(i)].push_back(a.first_node + bucket);
    }
  } else if (const auto t = f.tokens.find(name); t != f.tokens.end()) {
    a.kind = "tokens";
    a.vocab = t->second.vocab;
    a.count = a.vocab.size();
    check_length(name, t->second.offsets.numel() - 1, num_items);
    const std::vector<int64_t> offsets = t->second.offsets.to(DType::i64).to_vector<int64_t>();
    const std::vector<int64_t> tokens = t->second.tokens.to(DType::i64).to_vector<int64_t>();
    for (int64_t i = 0; i < num_items; ++i)
      for (int64_t k = offsets[static_cast<size_t>(i)]; k < offsets[static_cast<size_t>(i) + 1]; ++k) {
        const int64_t token = tokens[static_cast<size_t>(k)];
        AISLE_CHECK(token >= 0 && token < a.count, kWhere, ": item ", i, " has token ", token, " of feature '", name,
                    "', outside its vocabulary of ", a.count);
        item_values[static_cast<size_t>(i)].push_back(a.first_node + token);
      }
  } else {
    AISLE_FAIL(kWhere, ": the dataset has no item feature '", name, "' (it has: ", available(&f), ")");
  }
  next_node += a.count;
  attributes.push_back(a);
}

}  // namespace

std::vector<float> quantile_bounds(const std::vector<float>& values, int64_t buckets) {
  std::vector<float> sorted;
  for (const float v : values)
    if (!std::isnan(v)) sorted.push_back(v);
  std::sort(sorted.begin(), sorted.end());
  std::vector<float> bounds;
  if (sorted.empty()) return bounds;
  const auto n = static_cast<int64_t>(sorted.size());
  for (int64_t k = 1; k < buckets; ++k) {
    const float b = sorted[static_cast<size_t>(k * n / buckets)];
    // A bound equal to the smallest value would leave the first bucket empty.
    if (b > sorted.front() && (bounds.empty() || b > bounds.back())) bounds.push_back(b);
  }
  return bounds;
}

FeatureGraph build_feature_graph(const data::UserItemIndex& train, int64_t num_users, int64_t num_items,
                                 const data::SideFeatures* features, const FeatureGraphOptions& options) {
  AISLE_CHECK(train.num_users() <= num_users && train.num_items() <= num_items, "graphsage: the training index has ",
              train.num_users(), " users and ", train.num_items(), " items, more than the ", num_users, " and ",
              num_items, " of the data");
  AISLE_CHECK(options.numeric_buckets >= 1, "graphsage: numeric_buckets must be at least 1, got ",
              options.numeric_buckets);
  FeatureGraph g;
  g.num_users = num_users;
  g.num_items = num_items;
  std::vector<std::string> names = options.features;
  if (names.empty() && features != nullptr) {
    for (const auto& [n, _] : features->categorical) names.push_back(n);
    for (const auto& [n, _] : features->numeric) names.push_back(n);
    for (const auto& [n, _] : features->tokens) names.push_back(n);
  }
  for (size_t a = 0; a < names.size(); ++a)
    for (size_t b = 0; b < a; ++b)
      AISLE_CHECK(names[a] != names[b], kWhere, ": '", names[a], "' is listed twice");
  AISLE_CHECK(names.empty() || features != nullptr, kWhere, ": the dataset has no item features, so '", names[0],
              "' cannot be used");
  int64_t next_node = num_users + num_items;
  std::vector<std::vector<int64_t>> item_values(static_cast<size_t>(num_items));
  for (const std::string& name : names)
    add_feature(*features, name, options, num_items, next_node, g.attributes, item_values);
  g.num_nodes = next_node;
  for (auto& v : item_values) {  // a title may repeat a word: one edge
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }

  // Adjacency rows in node order; every row comes out sorted because users < items < attributes
  // and each list below is produced in increasing order.
  const int64_t n = g.num_nodes, first_attribute = num_users + num_items;
  std::vector<std::vector<int64_t>> item_users(static_cast<size_t>(num_items));
  std::vector<std::vector<int64_t>> attribute_items(static_cast<size_t>(n - first_attribute));
  for (int64_t u = 0; u < train.num_users(); ++u)
    for (const int64_t* it = train.begin(u); it != train.end(u); ++it) item_users[static_cast<size_t>(*it)].push_back(u);
  for (int64_t i = 0; i < num_items; ++i)
    for (const int64_t v : item_values[static_cast<size_t>(i)])
      attribute_items[static_cast<size_t>(v - first_attribute)].push_back(num_users + i);
  std::vector<int64_t> row_ptr(static_cast<size_t>(n) + 1, 0), col;
  auto append = [&](int64_t node, const int64_t* begin, const int64_t* end, int64_t shift) {
    for (const int64_t* p = begin; p != end; ++p) col.push_back(*p + shift);
    row_ptr[static_cast<size_t>(node) + 1] = static_cast<int64_t>(col.size());
  };
  for (int64_t u = 0; u < num_users; ++u) {
    if (u < train.num_users()) append(u, train.begin(u), train.end(u), num_users);
    else row_ptr[static_cast<size_t>(u) + 1] = static_cast<int64_t>(col.size());
  }
  for (int64_t i = 0; i < num_items; ++i) {
    const auto& users = item_users[static_cast<size_t>(i)];
    const auto& values = item_values[static_cast<size_t>(i)];
    append(num_users + i, users.data(), users.data() + users.size(), 0);
    append(num_users + i, values.data(), values.data() + values.size(), 0);
  }
  for (int64_t a = first_attribute; a < n; ++a) {
    const auto& items = attribute_items[static_cast<size_t>(a - first_attribute)];
    append(a, items.data(), items.data() + items.size(), 0);
  }
  std::vector<float> values(col.size());
  for (int64_t v = 0; v < n; ++v) {
    const int64_t b = row_ptr[static_cast<size_t>(v)], e = row_ptr[static_cast<size_t>(v) + 1];
    for (int64_t k = b; k < e; ++k) values[static_cast<size_t>(k)] = 1.0f / static_cast<float>(e - b);
  }
  g.adjacency = ops::make_csr(Tensor::from_vector(row_ptr), Tensor::from_vector(col), Tensor::from_vector(values), n, n);

  // Inputs (token layout in the header).
  const int64_t attribute_nodes = n - first_attribute, item_token = num_users + attribute_nodes;
  g.num_tokens = item_token + 1 + (options.item_ids ? num_items : 0);
  g.input_offsets.assign(1, 0);
  for (int64_t u = 0; u < num_users; ++u) g.input_tokens.push_back(u);
  for (int64_t u = 0; u < num_users; ++u) g.input_offsets.push_back(u + 1);
  for (int64_t i = 0; i < num_items; ++i) {
    for (const int64_t v : item_values[static_cast<size_t>(i)]) g.input_tokens.push_back(v - num_items);
    g.input_tokens.push_back(item_token);
    if (options.item_ids) g.input_tokens.push_back(item_token + 1 + i);
    g.input_offsets.push_back(static_cast<int64_t>(g.input_tokens.size()));
  }
  for (int64_t a = first_attribute; a < n; ++a) {
    g.input_tokens.push_back(a - num_items);
    g.input_offsets.push_back(static_cast<int64_t>(g.input_tokens.size()));
  }
  return g;
}

void FeatureGraph::input_bags(const std::vector<int64_t>& nodes, Tensor& ids, Tensor& offsets) const {
  std::vector<int64_t> id, off{0};
  off.reserve(nodes.size() + 1);
  for (const int64_t v : nodes) {
    AISLE_CHECK(v >= 0 && v < num_nodes, "graphsage: node ", v, " is outside [0, ", num_nodes, ")");
    id.insert(id.end(), input_tokens.begin() + input_offsets[static_cast<size_t>(v)],
              input_tokens.begin() + input_offsets[static_cast<size_t>(v) + 1]);
    off.push_back(static_cast<int64_t>(id.size()));
  }
  ids = Tensor::from_vector(id);
  offsets = Tensor::from_vector(off);
}

std::vector<std::string> FeatureGraph::describe() const {
  const std::vector<int64_t> rp = adjacency.row_ptr.to_vector<int64_t>();
  auto edges_of = [&rp](int64_t first, int64_t count) { return rp[static_cast<size_t>(first + count)] - rp[static_cast<size_t>(first)]; };
  const std::vector<int64_t> col = adjacency.col_idx.to(DType::i64).to_vector<int64_t>();
  int64_t cold = 0;
  for (int64_t i = 0; i < num_items; ++i) {
    // Rows are sorted and users come first: an item whose first neighbour is not a user has no
    // training interaction.
    const int64_t b = rp[static_cast<size_t>(num_users + i)], e = rp[static_cast<size_t>(num_users + i) + 1];
    if (b == e || col[static_cast<size_t>(b)] >= num_users) ++cold;
  }
  std::vector<std::string> lines{"graph: " + std::to_string(num_nodes) + " nodes, " +
                                 std::to_string(adjacency.nnz() / 2) + " edges; " + std::to_string(num_users) +
                                 " users (" + std::to_string(edges_of(0, num_users)) + " user-item edges), " +
                                 std::to_string(num_items) + " items (" + std::to_string(cold) +
                                 " without training interactions, embedded from their attributes)"};
  for (const AttributeNodes& a : attributes)
    lines.push_back("graph: item feature '" + a.feature + "' (" + a.kind + "): " + std::to_string(a.count) +
                    " nodes, " + std::to_string(edges_of(a.first_node, a.count)) + " item edges");
  return lines;
}

}  // namespace aisle::models::graphsage
