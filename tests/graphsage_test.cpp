// GraphSAGE (model.type: graphsage): the heterogeneous shop graph is built as specified, the
// layers equal an independent float64 computation (mean and max-pool) and pass finite
// differences, sampled neighbourhoods with every neighbour reproduce full-graph inference, the
// model learns planted tastes, embeds items without any training interaction next to items of
// their own category (and only because of their attributes), is deterministic, resumes exactly,
// round-trips its weights and artifacts, rejects bad keys, and (with a GPU) trains on CUDA to the
// CPU's numbers.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <set>

#include "aisle/autograd/embedding.hpp"
#include "aisle/autograd/grad_mode.hpp"
#include "aisle/data/split.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "aisle/models/graphsage.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/index.hpp"
#include "aisle/ops/scatter.hpp"
#include "aisle/train/evaluation.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/graphsage/cold_items.hpp"
#include "src/models/graphsage/model.hpp"
#include "support/artifact_testing.hpp"
#include "support/graphsage_shop.hpp"
#include "support/model_testing.hpp"
#include "support/thread_communicator.hpp"
#include "support/testing.hpp"

namespace aisle::models::graphsage {
namespace {

using namespace shop;
using testing::error_message;
using testing::expect_same_bits;
using testing::snapshot;

// ---- the graph ----------------------------------------------------------------------------

// 3 users, 4 items (2 and 3 never interacted with), a category (item 3 has none), a price (item 2
// has none) in 2 buckets and title words (item 0 repeats one, item 1 has none).
struct TinyShop {
  data::UserItemIndex index{data::Interactions::from_vectors(std::vector<int64_t>{0, 0, 1, 2, 0},
                                                             std::vector<int64_t>{0, 1, 1, 0, 1}, 3, 4)};
  data::SideFeatures features;
  TinyShop() {
    features.categorical["category"] = {Tensor::from_vector(std::vector<int64_t>{0, 1, 0, -1}), data::IdMap::dense(2)};
    features.numeric["price"] = {Tensor::from_vector(std::vector<float>{1, 2, std::nanf(""), 10})};
    features.tokens["title"] = {Tensor::from_vector(std::vector<int64_t>{0, 3, 3, 4, 5}),
                                Tensor::from_vector(std::vector<int64_t>{0, 1, 0, 1, 2}), data::IdMap::dense(3)};
  }
  FeatureGraph graph(bool item_ids = false, std::vector<std::string> names = {}) const {
    return build_feature_graph(index, 3, 4, &features,
                               FeatureGraphOptions{.features = std::move(names), .numeric_buckets = 2,
                                                   .item_ids = item_ids});
  }
};

std::vector<std::vector<int64_t>> rows_of(const ops::Csr& a) {
  const auto rp = a.row_ptr.to_vector<int64_t>(), col = a.col_idx.to(DType::i64).to_vector<int64_t>();
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(a.rows));
  for (int64_t r = 0; r < a.rows; ++r)
    rows[static_cast<size_t>(r)].assign(col.begin() + rp[static_cast<size_t>(r)], col.begin() + rp[static_cast<size_t>(r) + 1]);
  return rows;
}

TEST(GraphSageGraph, JoinsUsersItemsAndAttributeValues) {
  const TinyShop shop;
  const FeatureGraph g = shop.graph();
  // Nodes: users 0-2, items 3-6, category 7-8, price buckets 9-10 (bound 2), title words 11-13.
  EXPECT_EQ(g.num_nodes, 14);
  ASSERT_EQ(g.attributes.size(), 3u);
  EXPECT_EQ(g.attributes[0].feature, "category");
  EXPECT_EQ(g.attributes[0].first_node, 7);
  EXPECT_EQ(g.attributes[1].kind, "numeric");
  EXPECT_EQ(g.attributes[1].count, 2);
  EXPECT_EQ(g.attributes[2].kind, "tokens");
  EXPECT_EQ(g.attributes[2].first_node, 11);
  const std::vector<std::vector<int64_t>> expected{
      {3, 4}, {4}, {3},                           // users
      {0, 2, 7, 9, 11, 12}, {0, 1, 8, 10}, {7, 12}, {10, 13},  // items: users, then values
      {3, 5}, {4}, {3}, {4, 6}, {3}, {3, 5}, {6}};  // attribute values: their items
  EXPECT_EQ(rows_of(g.adjacency), expected);
  const auto values = g.adjacency.values.to_vector<float>();
  EXPECT_FLOAT_EQ(values[0], 0.5f);          // user 0 has 2 neighbours
  EXPECT_FLOAT_EQ(values[4], 1.0f / 6.0f);   // item 0 has 6
  // Inputs: users their own token; attribute node a its token a - 4; items their values' tokens
  // and the shared item token 10 (3 users + 7 attribute nodes).
  EXPECT_EQ(g.num_tokens, 11);
  Tensor ids, offsets;
  g.input_bags({0, 3, 4, 5, 6, 13}, ids, offsets);
  EXPECT_EQ(ids.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 5, 7, 8, 10, 4, 6, 10, 3, 8, 10, 6, 9, 10, 9}));
  EXPECT_EQ(offsets.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 6, 9, 12, 15, 16}));
  const std::vector<std::string> lines = g.describe();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_MESSAGE_HAS(lines[0], "14 nodes, 14 edges");
  EXPECT_MESSAGE_HAS(lines[0], "2 without training interactions");
  EXPECT_MESSAGE_HAS(lines[3], "'title' (tokens): 3 nodes, 4 item edges");

  const FeatureGraph with_ids = shop.graph(/*item_ids=*/true, {"category"});
  EXPECT_EQ(with_ids.num_nodes, 9);
  EXPECT_EQ(with_ids.num_tokens, 3 + 2 + 1 + 4);
  with_ids.input_bags({5, 6}, ids, offsets);
  EXPECT_EQ(ids.to_vector<int64_t>(), (std::vector<int64_t>{3, 5, 8, 5, 9}));  // item 3 has no category
}

TEST(GraphSageGraph, QuantileBoundsSkipRepeatsAndNans) {
  EXPECT_EQ(quantile_bounds({1, 2, 3, 4, 5, 6, 7, 8}, 4), (std::vector<float>{3, 5, 7}));
  EXPECT_EQ(quantile_bounds({1, 1, 1, 1, 1, 1, 9, 9}, 4), (std::vector<float>{9}));
  EXPECT_EQ(quantile_bounds({std::nanf(""), 5, 5}, 3), (std::vector<float>{}));
  EXPECT_EQ(quantile_bounds({}, 3), (std::vector<float>{}));
  EXPECT_EQ(quantile_bounds({4, 1, 3, 2}, 1), (std::vector<float>{}));
}

TEST(GraphSageGraph, BadFeaturesAreNamed) {
  TinyShop shop;
  EXPECT_MESSAGE_HAS(error_message([&] { shop.graph(false, {"colour"}); }),
                     "no item feature 'colour' (it has: category, price, title)");
  EXPECT_MESSAGE_HAS(error_message([&] { shop.graph(false, {"price", "price"}); }), "'price' is listed twice");
  shop.features.numeric["price"].values = Tensor::from_vector(std::vector<float>{1, 2, 3});
  EXPECT_MESSAGE_HAS(error_message([&] { shop.graph(); }), "'price' has 3 rows but the catalogue has 4 items");
  shop.features.numeric.erase("price");
  shop.features.categorical["category"].codes = Tensor::from_vector(std::vector<int64_t>{0, 2, 0, -1});
  EXPECT_MESSAGE_HAS(error_message([&] { shop.graph(); }), "item 1 has code 2 of feature 'category'");
  EXPECT_MESSAGE_HAS(error_message([&] {
                       build_feature_graph(shop.index, 3, 4, nullptr, FeatureGraphOptions{.features = {"category"}});
                     }),
                     "the dataset has no item features");
}

// ---- the layers against plain float64 loops ----------------------------------------------

using Matrix = std::vector<std::vector<double>>;

Matrix to_matrix(const Tensor& t) {
  const auto v = t.to_doubles();
  const int64_t cols = t.dim() == 1 ? t.size(0) : t.size(1), rows = t.dim() == 1 ? 1 : t.size(0);
  Matrix m(static_cast<size_t>(rows), std::vector<double>(static_cast<size_t>(cols)));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) m[static_cast<size_t>(r)][static_cast<size_t>(c)] = v[static_cast<size_t>(r * cols + c)];
  return m;
}

std::vector<double> times(const std::vector<double>& x, const Matrix& w) {
  std::vector<double> y(w[0].size(), 0.0);
  for (size_t i = 0; i < x.size(); ++i)
    for (size_t j = 0; j < y.size(); ++j) y[j] += x[i] * w[i][j];
  return y;
}

// Every node's embedding after the layers, by the formulas of sage_layers.hpp.
Matrix reference_embeddings(const FeatureGraph& g, const std::vector<Tensor>& p, const Config& config) {
  const Matrix tokens = to_matrix(p[0]);
  const auto neighbours = rows_of(g.adjacency);
  const size_t n = static_cast<size_t>(g.num_nodes), parts = config.aggregator == Aggregator::pool ? 5 : 3;
  Matrix h(n);
  for (size_t v = 0; v < n; ++v) {
    h[v].assign(tokens[0].size(), 0.0);
    const int64_t b = g.input_offsets[v], e = g.input_offsets[v + 1];
    for (int64_t k = b; k < e; ++k)
      for (size_t c = 0; c < h[v].size(); ++c)
        h[v][c] += tokens[static_cast<size_t>(g.input_tokens[static_cast<size_t>(k)])][c] / static_cast<double>(e - b);
  }
  const size_t layers = (p.size() - 1) / parts;
  for (size_t l = 0; l < layers; ++l) {
    const Matrix w_self = to_matrix(p[1 + parts * l]), w_neigh = to_matrix(p[2 + parts * l]);
    const std::vector<double> bias = to_matrix(p[3 + parts * l])[0];
    Matrix message = h;
    if (parts == 5) {
      const Matrix w_pool = to_matrix(p[4 + parts * l]);
      const std::vector<double> b_pool = to_matrix(p[5 + parts * l])[0];
      for (size_t v = 0; v < n; ++v) {
        message[v] = times(h[v], w_pool);
        for (size_t c = 0; c < message[v].size(); ++c) message[v][c] = std::max(0.0, message[v][c] + b_pool[c]);
      }
    }
    Matrix next(n);
    for (size_t v = 0; v < n; ++v) {
      std::vector<double> agg(message[0].size(), 0.0);
      const auto& nb = neighbours[v];
      // The graph stores 1/deg in f32.
      const double mean_weight = nb.empty() ? 0.0 : static_cast<double>(1.0f / static_cast<float>(nb.size()));
      for (size_t c = 0; c < agg.size() && !nb.empty(); ++c) {
        double acc = parts == 5 ? -INFINITY : 0.0;
        for (const int64_t u : nb)
          acc = parts == 5 ? std::max(acc, message[static_cast<size_t>(u)][c])
                           : acc + message[static_cast<size_t>(u)][c] * mean_weight;
        agg[c] = acc;
      }
      const std::vector<double> a = times(h[v], w_self), m = times(agg, w_neigh);
      next[v].resize(a.size());
      double norm = 0;
      for (size_t c = 0; c < a.size(); ++c) {
        next[v][c] = a[c] + m[c] + bias[c];
        if (l + 1 < layers) next[v][c] = std::max(0.0, next[v][c]);
        norm += next[v][c] * next[v][c];
      }
      if (l + 1 < layers && config.normalize)
        for (double& x : next[v]) x /= std::sqrt(norm + 1e-12);
    }
    h = next;
  }
  return h;
}

// Random float64 parameters for `sizes` layers over g's tokens (factors 3).
std::vector<Tensor> random_params(const FeatureGraph& g, const std::vector<int64_t>& sizes, Aggregator aggregator,
                                  Generator& gen) {
  std::vector<Tensor> p{testing::random_tensor({g.num_tokens, 3}, gen)};
  int64_t d_in = 3;
  for (const int64_t d : sizes) {
    p.push_back(testing::random_tensor({d_in, d}, gen));
    p.push_back(testing::random_tensor({d_in, d}, gen));
    p.push_back(testing::random_tensor({d}, gen));
    if (aggregator == Aggregator::pool) {
      p.push_back(testing::random_tensor({d_in, d_in}, gen));
      p.push_back(testing::random_tensor({d_in}, gen));
    }
    d_in = d;
  }
  return p;
}

Params params_from(const std::vector<Var>& x, Aggregator aggregator) {
  const size_t parts = aggregator == Aggregator::pool ? 5 : 3;
  Params p{x[0], {}};
  for (size_t l = 0; 1 + parts * l < x.size(); ++l) {
    Layer layer{x[1 + parts * l], x[2 + parts * l], x[3 + parts * l], Var(), Var()};
    if (parts == 5) {
      layer.w_pool = x[4 + parts * l];
      layer.b_pool = x[5 + parts * l];
    }
    p.layers.push_back(layer);
  }
  return p;
}

// The whole graph as every layer's neighbourhood, in float64.
Var full_forward(const FeatureGraph& g, const Params& p, const Config& config) {
  std::vector<int64_t> all(static_cast<size_t>(g.num_nodes));
  std::iota(all.begin(), all.end(), 0);
  Tensor ids, offsets;
  g.input_bags(all, ids, offsets);
  const Var inputs = embedding_bag(p.tokens, ids, offsets, ops::BagMode::mean);
  const LayerGraph whole = layer_graph(g.adjacency, g.num_nodes, config.aggregator, Device::cpu(), DType::f64);
  return sage_forward(p, inputs, std::vector<LayerGraph>(p.layers.size(), whole), config);
}

TEST(GraphSageLayers, MatchPlainLoopsForBothAggregators) {
  const FeatureGraph g = TinyShop().graph();
  for (const Aggregator aggregator : {Aggregator::mean, Aggregator::pool})
    for (const bool normalize : {true, false}) {
      SCOPED_TRACE(::testing::Message() << aggregator_name(aggregator) << (normalize ? " normalized" : ""));
      Config config;
      config.aggregator = aggregator;
      config.normalize = normalize;
      Generator gen(21);
      const std::vector<Tensor> p = random_params(g, {4, 2}, aggregator, gen);
      std::vector<Var> vars;
      for (const Tensor& t : p) vars.emplace_back(t);
      const Tensor got = full_forward(g, params_from(vars, aggregator), config).value();
      const Matrix expected = reference_embeddings(g, p, config);
      std::vector<double> flat;
      for (const auto& row : expected) flat.insert(flat.end(), row.begin(), row.end());
      EXPECT_TRUE(testing::all_close(got, Tensor::from_vector(flat, {g.num_nodes, 2}), 1e-12, 1e-12));
    }
}

TEST(GraphSageLayers, LossGradientPassesFiniteDifferences) {
  const FeatureGraph g = TinyShop().graph();
  // Triples over node ids: users 0-2, items 3-6 (2 negatives each).
  const SeedPositions seeds{Tensor::from_vector(std::vector<int64_t>{0, 1, 2}),
                            Tensor::from_vector(std::vector<int64_t>{3, 4, 3}),
                            Tensor::from_vector(std::vector<int64_t>{5, 6, 6, 5, 4, 6}, {3, 2})};
  for (const Aggregator aggregator : {Aggregator::mean, Aggregator::pool})
    for (const std::vector<int64_t>& sizes : {std::vector<int64_t>{2}, {4, 3}}) {
      SCOPED_TRACE(::testing::Message() << aggregator_name(aggregator) << ", " << sizes.size() << " layers");
      Config config;
      config.aggregator = aggregator;
      config.reg = 0.3;
      Generator gen(4);
      const std::vector<Tensor> p = random_params(g, sizes, aggregator, gen);
      std::vector<int64_t> all(static_cast<size_t>(g.num_nodes));
      std::iota(all.begin(), all.end(), 0);
      Tensor ids, offsets;
      g.input_bags(all, ids, offsets);
      const LayerGraph whole = layer_graph(g.adjacency, g.num_nodes, aggregator, Device::cpu(), DType::f64);
      testing::GradcheckOptions options;
      options.rtol = 1e-4;  // max-pool and ReLU kinks are far from these random points, but not infinitely
      EXPECT_TRUE(testing::gradients_match(
          [&](const std::vector<Var>& x) {
            const Params params = params_from(x, aggregator);
            const Var inputs = embedding_bag(params.tokens, ids, offsets, ops::BagMode::mean);
            return batch_loss(params, inputs, std::vector<LayerGraph>(sizes.size(), whole), config, seeds);
          },
          p, options));
    }
}

// With every neighbour kept (fan-out -1), a training step's sampled blocks give its seeds exactly
// the embeddings that full-graph inference gives them: the two paths compute the same thing.
TEST(GraphSageLayers, SampledBlocksWithAllNeighboursEqualFullInference) {
  const Fixture fx;
  for (const std::string aggregator : {"mean", "pool"}) {
    SCOPED_TRACE(aggregator);
    auto m = fx.model(sage_recipe(", aggregator: " + aggregator + ", factors: 8, layer_sizes: [8, 4], fanouts: [-1, -1]"));
    const StepInputs in = m->step_inputs(0, 1);
    ASSERT_GT(in.seeds.size(), 100u);
    NoGradGuard no_grad;
    const Var inputs = embedding_bag(m->params().tokens, in.input_ids, in.input_offsets, ops::BagMode::mean);
    const Tensor sampled = sage_forward(m->params(), inputs, in.graphs, m->config()).value();
    ASSERT_EQ(sampled.size(0), static_cast<int64_t>(in.seeds.size()));
    const auto w = m->weights();
    const Tensor full = ops::concat({w.at("user_embeddings"), w.at("item_embeddings")}, 0);
    const Tensor seeds_full = ops::gather_rows(full, Tensor::from_vector(in.seeds));
    EXPECT_TRUE(testing::all_close(sampled, seeds_full, 1e-5, 1e-6));
  }
}

TEST(GraphSageLayers, FanOutsBoundTheSampledNeighbourhoods) {
  const Fixture fx;
  auto m = fx.model(sage_recipe(", factors: 8, layer_sizes: [8, 4], fanouts: [3, 2]"));
  const StepInputs in = m->step_inputs(1, 0);
  ASSERT_EQ(in.graphs.size(), 2u);
  // The last layer's dst nodes are the seeds (hop 1, fan-out 3); the first layer's are hop 1's
  // src nodes (hop 2, fan-out 2).
  EXPECT_EQ(in.graphs[1].num_dst, static_cast<int64_t>(in.seeds.size()));
  EXPECT_EQ(in.graphs[0].num_dst, in.graphs[1].adjacency.cols);
  for (const auto& [graph, fanout] : {std::pair{&in.graphs[1], 3}, std::pair{&in.graphs[0], 2}})
    for (const auto& row : rows_of(graph->adjacency)) EXPECT_LE(static_cast<int64_t>(row.size()), fanout);
  // Another step samples other neighbourhoods; the same step the same ones.
  const StepInputs again = m->step_inputs(1, 0), other = m->step_inputs(2, 0);
  EXPECT_EQ(again.input_ids.to_vector<int64_t>(), in.input_ids.to_vector<int64_t>());
  EXPECT_NE(other.input_ids.to_vector<int64_t>(), in.input_ids.to_vector<int64_t>());
}

// ---- items trained as if new (model.cold_item_rate) --------------------------------------

TEST(GraphSageColdItems, HidingDropsOnlyTheChosenItemsUserNeighbours) {
  const TinyShop shop;
  const FeatureGraph g = shop.graph();
  data::NeighborSampler sampler(g.adjacency, {-1, -1});
  // Users 0 and 2, items 0 and 1 (nodes 3 and 4); item 0 is made cold.
  const data::NeighborSample original = sampler.sample(Tensor::from_vector(std::vector<int64_t>{0, 2, 3, 4}), 1, 2);
  data::NeighborSample hidden = original;
  hide_user_neighbours(hidden, {3}, 3);
  int cold_rows = 0;
  for (size_t b = 0; b < original.blocks.size(); ++b) {
    const data::SampledBlock &was = original.blocks[b], &now = hidden.blocks[b];
    const auto src = was.src_nodes.to_vector<int64_t>();
    const auto rows_was = rows_of(was.adjacency), rows_now = rows_of(now.adjacency);
    const auto rp_was = was.adjacency.row_ptr.to_vector<int64_t>(), rp_now = now.adjacency.row_ptr.to_vector<int64_t>();
    const auto v_was = was.adjacency.values.to_vector<float>(), v_now = now.adjacency.values.to_vector<float>();
    ASSERT_EQ(now.num_dst, was.num_dst);
    for (int64_t d = 0; d < was.num_dst; ++d) {
      const auto r = static_cast<size_t>(d);
      std::vector<float> values_was(v_was.begin() + rp_was[r], v_was.begin() + rp_was[r + 1]);
      std::vector<float> values_now(v_now.begin() + rp_now[r], v_now.begin() + rp_now[r + 1]);
      if (src[r] != 3) {
        EXPECT_EQ(rows_now[r], rows_was[r]) << "block " << b << " row " << d;
        EXPECT_EQ(values_now, values_was);
        continue;
      }
      ++cold_rows;
      std::vector<int64_t> attributes;  // item 0's row without its users (0 and 2)
      for (const int64_t c : rows_was[r])
        if (src[static_cast<size_t>(c)] >= 3) attributes.push_back(c);
      ASSERT_LT(attributes.size(), rows_was[r].size()) << "item 0 has buyers to hide";
      EXPECT_EQ(rows_now[r], attributes);
      EXPECT_EQ(values_now, std::vector<float>(attributes.size(), 1.0f / static_cast<float>(attributes.size())));
    }
  }
  EXPECT_EQ(cold_rows, 2) << "item 0 is a dst node of both hops";
}

TEST(GraphSageColdItems, TheChoiceIsKeyedByNodeAndStep) {
  std::vector<int64_t> seeds;
  for (int64_t v = 0; v < 3000; ++v) seeds.push_back(v);  // users 0..999, items 1000..2999
  EXPECT_TRUE(items_made_cold(seeds, 1000, 2000, 0.0, 5, 9).empty());
  const std::vector<int64_t> all = items_made_cold(seeds, 1000, 2000, 1.0, 5, 9);
  ASSERT_EQ(all.size(), 2000u);
  EXPECT_EQ(all.front(), 1000);
  const std::vector<int64_t> some = items_made_cold(seeds, 1000, 2000, 0.3, 5, 9);
  EXPECT_NEAR(static_cast<double>(some.size()), 600, 70);
  EXPECT_EQ(items_made_cold(seeds, 1000, 2000, 0.3, 5, 9), some);
  EXPECT_NE(items_made_cold(seeds, 1000, 2000, 0.3, 5, 10), some) << "another step";
  // A node's draw does not depend on the other seeds of its batch.
  const std::vector<int64_t> half(seeds.begin() + 1500, seeds.end());
  std::vector<int64_t> expected;
  for (const int64_t v : some)
    if (v >= 1500) expected.push_back(v);
  EXPECT_EQ(items_made_cold(half, 1000, 2000, 0.3, 5, 9), expected);
  EXPECT_MESSAGE_HAS(error_message([&] { items_made_cold(seeds, 1000, 2000, 1.5, 5, 9); }), "cold_item_rate");
}

TEST(GraphSageColdItems, ResumesExactlyAndIsDeterministic) {
  const Fixture fx;
  const recipe::Recipe r = sage_recipe(", cold_item_rate: 0.4");
  testing::expect_exact_resume([&] { return fx.model(r); });
  testing::expect_deterministic_over_threads([&] { return fx.model(r); });
  EXPECT_FALSE(fx.model(r)->step_inputs(0, 0).cold_items.empty());
}

// ---- learning and cold start --------------------------------------------------------------

// For each item never interacted with: the share of its 10 nearest (cosine) known items that
// are of its own category, averaged. Chance is 1/8.
double cold_category_cohesion(const Tensor& item_embeddings) {
  const Matrix z = to_matrix(item_embeddings);
  auto cosine = [&](int64_t a, int64_t b) {
    double dot = 0, na = 0, nb = 0;
    for (size_t c = 0; c < z[0].size(); ++c) {
      dot += z[static_cast<size_t>(a)][c] * z[static_cast<size_t>(b)][c];
      na += z[static_cast<size_t>(a)][c] * z[static_cast<size_t>(a)][c];
      nb += z[static_cast<size_t>(b)][c] * z[static_cast<size_t>(b)][c];
    }
    return dot / std::sqrt(na * nb + 1e-30);
  };
  double total = 0;
  int cold = 0;
  for (int64_t c = 0; c < kItems; ++c) {
    if (!is_cold(c)) continue;
    std::vector<std::pair<double, int64_t>> known;
    for (int64_t i = 0; i < kItems; ++i)
      if (!is_cold(i)) known.emplace_back(-cosine(c, i), i);
    std::sort(known.begin(), known.end());
    int same = 0;
    for (size_t k = 0; k < 10; ++k) same += category_of(known[k].second) == category_of(c);
    total += same / 10.0;
    ++cold;
  }
  return total / cold;
}

// For each user: the probability that a new item of the user's taste scores above a new item of
// another category (an AUC over the cold items only), averaged over users.
double cold_taste_auc(const Tensor& scores) {
  const Matrix s = to_matrix(scores);
  double total = 0;
  for (int64_t u = 0; u < kUsers; ++u) {
    int64_t wins = 0, pairs = 0;
    for (int64_t a = 0; a < kItems; ++a) {
      if (!is_cold(a) || category_of(a) != u % kCategories) continue;
      for (int64_t b = 0; b < kItems; ++b) {
        if (!is_cold(b) || category_of(b) == u % kCategories) continue;
        const double sa = s[static_cast<size_t>(u)][static_cast<size_t>(a)],
                     sb = s[static_cast<size_t>(u)][static_cast<size_t>(b)];
        wins += sa > sb ? 2 : sa == sb ? 1 : 0;  // a tie counts half
        pairs += 2;
      }
    }
    total += static_cast<double>(wins) / static_cast<double>(pairs);
  }
  return total / kUsers;
}

Tensor all_users() {
  std::vector<int64_t> u(kUsers);
  std::iota(u.begin(), u.end(), 0);
  return Tensor::from_vector(u);
}

TEST(GraphSage, LearnsTastesAndEmbedsNewItemsBesideTheirCategory) {
  const Fixture fx;
  const recipe::Recipe r = sage_recipe(", factors: 32, layer_sizes: [32, 32], fanouts: [10, 5]");
  auto m = fx.model(r, Device::cpu(), 3);
  const double cohesion_before = cold_category_cohesion(m->item_embeddings());
  const std::vector<double> losses = testing::epoch_losses(*m, 0, 12);
  EXPECT_LT(losses.back(), 0.6 * losses.front());

  const Tensor counts = [&] {
    std::vector<float> c(kItems, 0.0f);
    for (int64_t i : fx.split.train.items.to_vector<int64_t>()) c[static_cast<size_t>(i)] += 1;
    return Tensor::from_vector(c);
  }();
  const eval::EvalResult popularity = fx.evaluate([&](const Tensor& users) {
    return ops::broadcast_to(counts.reshape({1, kItems}), {users.numel(), kItems});
  });
  const eval::EvalResult sage = fx.evaluate([&](const Tensor& users) { return m->score_users(users); });

  // The same model without item attributes: new items are isolated nodes with identical inputs.
  auto blind = fx.model(r, Device::cpu(), 3, /*with_features=*/false);
  testing::epoch_losses(*blind, 0, 12);

  const double cohesion = cold_category_cohesion(m->item_embeddings());
  const double blind_cohesion = cold_category_cohesion(blind->item_embeddings());
  const double auc = cold_taste_auc(m->score_users(all_users()));
  const double blind_auc = cold_taste_auc(blind->score_users(all_users()));
  std::printf("Recall@10 %.4f (popularity %.4f); new items: category share of 10 nearest known items %.3f "
              "(untrained %.3f, without attributes %.3f, chance 0.125), taste AUC %.3f (without attributes %.3f)\n",
              sage.at("Recall@10"), popularity.at("Recall@10"), cohesion, cohesion_before, blind_cohesion, auc,
              blind_auc);
  EXPECT_GT(sage.at("Recall@10"), 2 * popularity.at("Recall@10"));
  EXPECT_GT(cohesion, 0.8);
  EXPECT_GT(auc, 0.9);
  EXPECT_LT(blind_cohesion, 0.3);
  EXPECT_NEAR(blind_auc, 0.5, 0.1) << "without attributes every new item looks the same";
}

// eval.cold_items: the trainer's evaluation adds metrics over the test rows of items that have no
// training row, equal to evaluating those rows alone (every item still ranked).
TEST(GraphSage, ColdItemMetricsEvaluateTheRowsOfNewItemsAlone) {
  const Fixture fx;
  auto m = fx.model(sage_recipe());
  testing::epoch_losses(*m, 0, 3);
  // Test rows: the fixture's (known items) plus, for every third user, a new item of their taste.
  std::vector<int64_t> users = fx.split.test.users.to_vector<int64_t>(), items = fx.split.test.items.to_vector<int64_t>();
  int64_t added = 0;
  for (int64_t u = 0; u < kUsers; u += 3, ++added) {
    users.push_back(u);
    items.push_back(kCategories * 4 + u % kCategories);  // item 32 + taste: the first new one of each category
  }
  const data::Interactions target = data::Interactions::from_vectors(users, items, kUsers, kItems);
  const data::Interactions cold = train::cold_item_rows(*fx.train_index, target);
  ASSERT_EQ(cold.size(), added);
  for (const int64_t i : cold.items.to_vector<int64_t>()) EXPECT_TRUE(is_cold(i)) << i;

  train::EvalSettings settings;
  settings.ks = {10};
  settings.cold_items = true;
  const eval::EvalResult result = train::evaluate_model(*m, settings, *fx.train_index, target);
  EXPECT_EQ(result.at("cold_users"), static_cast<double>(added));
  eval::FullRankingOptions o;
  o.ks = {10};
  const eval::EvalResult cold_alone = eval::evaluate_full_ranking([&](const Tensor& u) { return m->score_users(u); },
                                                                  *fx.train_index, data::UserItemIndex(cold), o);
  for (const char* metric : {"Recall@10", "NDCG@10"})
    EXPECT_DOUBLE_EQ(result.at(std::string("cold_") + metric), cold_alone.at(metric)) << metric;
  EXPECT_GT(result.at("cold_Recall@10"), 0.3) << "a new item of the user's taste is one of 48";
  settings.cold_items = false;
  EXPECT_EQ(train::evaluate_model(*m, settings, *fx.train_index, target).metrics.count("cold_Recall@10"), 0u);
}

TEST(GraphSage, DeterministicAcrossRunsAndThreadCounts) {
  const Fixture fx;
  for (const std::string aggregator : {"mean", "pool"}) {
    SCOPED_TRACE(aggregator);
    const recipe::Recipe r = sage_recipe(", aggregator: " + aggregator, ", negatives: 2, batch_size: 1000");
    testing::expect_deterministic_over_threads([&] { return fx.model(r); });
  }
}

TEST(GraphSage, ResumesBitIdenticallyAfterAnEpochAndMidEpoch) {
  const Fixture fx;
  const recipe::Recipe r = sage_recipe();
  testing::expect_exact_resume([&] { return fx.model(r); });
}

TEST(GraphSage, WeightsRoundTripAndScoreIdentically) {
  const Fixture fx;
  auto m = fx.model(sage_recipe(", aggregator: pool"));
  testing::epoch_losses(*m, 0, 2);
  const auto w = m->weights();
  EXPECT_EQ(w.size(), 2u + 1u + 2u * 5u + 2u * 2u);  // tables, input rows, 2 pool layers, attribute and user states per layer
  EXPECT_EQ(w.at("layer0.attribute_inputs").shape(), (Shape{m->graph().num_attribute_nodes(), 16}));
  EXPECT_EQ(w.at("layer1.user_inputs").shape(), (Shape{kUsers, 16}));
  EXPECT_EQ(w.at("user_embeddings").shape(), (Shape{kUsers, 16}));
  EXPECT_EQ(w.at("item_embeddings").shape(), (Shape{kItems, 16}));
  EXPECT_EQ(w.at("input_tokens").shape(), (Shape{m->graph().num_tokens, 16}));
  EXPECT_EQ(w.at("layer1.w_pool").shape(), (Shape{16, 16}));
  for (const auto& [name, t] : w) EXPECT_TRUE(m->state().count(name)) << "state() lacks weight " << name;

  std::map<std::string, Tensor> served_only{{"user_embeddings", w.at("user_embeddings").clone()},
                                            {"item_embeddings", w.at("item_embeddings").clone()}};
  for (const auto& source : {snapshot(w), served_only}) {
    auto served = train::create_model("graphsage");
    served->load_weights(source, Device::cpu());
    const Tensor users = Tensor::from_vector(std::vector<int64_t>{0, 5, 299, 5});
    const Tensor a = m->score_users(users), b = served->score_users(users);
    ASSERT_EQ(b.shape(), (Shape{4, kItems}));
    EXPECT_EQ(0, std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()));
    EXPECT_EQ(served->dimensions(), m->dimensions());
    expect_same_bits(served->weights(), source);
  }
}

TEST(GraphSage, ExportedArtifactRecommendsLikeTheModel) {
  const Fixture fx;
  auto m = fx.model(sage_recipe());
  testing::epoch_losses(*m, 0, 3);
  testing::expect_artifact_recommends_like_the_model(*m, *fx.train_index, "graphsage", {0, 17, 299});
}

TEST(GraphSage, BadWeightsAndStatesNameTheTensor) {
  const Fixture fx;
  auto m = fx.model(sage_recipe());
  auto w = snapshot(m->weights());
  auto served = train::create_model("graphsage");
  w.erase("item_embeddings");
  EXPECT_MESSAGE_HAS(testing::artifact_error_message([&] { served->load_weights(w, Device::cpu()); }),
                     "'item_embeddings' is missing");
  w["item_embeddings"] = Tensor::zeros({kItems, 15});
  EXPECT_MESSAGE_HAS(testing::artifact_error_message([&] { served->load_weights(w, Device::cpu()); }),
                     "'item_embeddings' has shape [240, 15]");

  auto state = snapshot(m->state());
  state.erase("optimizer.param2.exp_avg");
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "optimizer.param2.exp_avg");
  state = snapshot(m->state());
  state["layer0.bias"] = Tensor::zeros({17});
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'layer0.bias' has shape [17]");
  state = snapshot(m->state());
  state["layer1.w_pool"] = Tensor::zeros({16, 16});
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'layer1.w_pool' is not part of this model");
}

TEST(GraphSage, BadKeysNameTheKey) {
  auto load = [](const std::string& yaml) {
    return error_message([&] { recipe::Recipe::load_text(yaml, "test.yaml", {}, train::training_schema()); });
  };
  const std::string head = "data: {path: x}\nmodel: {type: graphsage, ";
  EXPECT_MESSAGE_HAS(load(head + "layer_sizes: [64, 0]}\n"), "model.layer_sizes");
  EXPECT_MESSAGE_HAS(load(head + "fanouts: [10, -2]}\n"), "model.fanouts");
  EXPECT_MESSAGE_HAS(load(head + "aggregator: lstm}\n"), "model.aggregator");
  EXPECT_MESSAGE_HAS(load(head + "numeric_buckets: 0}\n"), "model.numeric_buckets");
  EXPECT_MESSAGE_HAS(load(head + "layers: 2}\n"), "model.layers");
  EXPECT_MESSAGE_HAS(load(head + "cold_item_rate: 1.5}\n"), "model.cold_item_rate");
  GraphSage m;
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(sage_recipe(", layer_sizes: [8, 8, 8], fanouts: [5, 5]")); }),
                     "model.fanouts has 2 entries but model.layer_sizes has 3 layers");
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(sage_recipe(", layer_sizes: [], fanouts: []")); }),
                     "model.layer_sizes needs at least one layer");
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(sage_recipe("", ", lr: 0")); }), "train.lr");
  const Fixture fx;
  EXPECT_MESSAGE_HAS(error_message([&] { fx.model(sage_recipe(", item_features: [category, colour]")); }),
                     "no item feature 'colour' (it has: brand, category, price)");
}

TEST(GraphSage, DescribesItsGraphAndRefusesSeveralRanks) {
  const Fixture fx;
  auto m = fx.model(sage_recipe(", item_features: [category]"));
  EXPECT_EQ(m->type(), "graphsage");
  EXPECT_FALSE(m->trains_on_ranks());
  EXPECT_EQ(m->dimensions().at("width"), 16);
  const std::vector<std::string> notes = m->setup_notes();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_MESSAGE_HAS(notes[0], "48 without training interactions");
  EXPECT_MESSAGE_HAS(notes[1], "'category' (categorical): 8 nodes, 240 item edges");
  const auto comms = testing::make_thread_communicators(2);
  const std::string message = error_message([&] {
    GraphSage ranked;
    ranked.configure(sage_recipe());
    ranked.setup(fx.training(), train::ModelContext{Device::cpu(), 1, comms[0].get()});
  });
  EXPECT_MESSAGE_HAS(message, "graphsage: trains in one process only, not on 2 ranks");
}

TEST(GraphSageCuda, TrainsToTheCpuNumbers) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Fixture fx;
  for (const std::string aggregator : {"mean", "pool"}) {
    SCOPED_TRACE(aggregator);
    const recipe::Recipe r = sage_recipe(", aggregator: " + aggregator);
    auto cpu = fx.model(r);
    auto gpu = fx.model(r, Device::cuda(0));
    testing::expect_cuda_training_matches_cpu(*cpu, *gpu, 2);
  }
}

// On a GPU the sampler runs on the device: a step's neighbourhoods are born there (no host copy
// to make) and are the CPU step's, entry for entry.
// With cold_item_rate, the items made cold lose their user neighbours on the device as on the host.
TEST(GraphSageCuda, StepNeighbourhoodsAreSampledOnTheDevice) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Fixture fx;
  for (const std::string cold : {"", ", cold_item_rate: 0.4"}) {
    SCOPED_TRACE(cold);
    const recipe::Recipe r = sage_recipe(", factors: 8, layer_sizes: [8, 4], fanouts: [3, -1]" + cold);
    auto cpu = fx.model(r);
    auto gpu = fx.model(r, Device::cuda(0));
    const StepInputs a = cpu->step_inputs(1, 2), b = gpu->step_inputs(1, 2);
    EXPECT_EQ(a.seeds, b.seeds);
    EXPECT_EQ(a.input_ids.to_vector<int64_t>(), b.input_ids.to_vector<int64_t>());
    ASSERT_EQ(a.graphs.size(), b.graphs.size());
    for (size_t l = 0; l < a.graphs.size(); ++l) {
      const ops::Csr &x = a.graphs[l].adjacency, &y = b.graphs[l].adjacency;
      EXPECT_TRUE(y.row_ptr.is_cuda() && y.col_idx.is_cuda() && y.values.is_cuda());
      EXPECT_EQ(a.graphs[l].num_dst, b.graphs[l].num_dst);
      EXPECT_EQ(x.cols, y.cols);
      EXPECT_EQ(x.row_ptr.to_vector<int64_t>(), y.row_ptr.to_vector<int64_t>());
      EXPECT_EQ(x.col_idx.to_vector<int64_t>(), y.col_idx.to_vector<int64_t>());
      EXPECT_EQ(x.values.to_vector<float>(), y.values.to_vector<float>());
    }
  }
}

}  // namespace
}  // namespace aisle::models::graphsage
