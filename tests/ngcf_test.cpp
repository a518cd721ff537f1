// NGCF (model.type: ngcf): its loss and first Adam step equal an independent dense computation on a
// tiny graph (message dropout included), its gradient w.r.t. every parameter passes a float64
// finite-difference check, it learns a planted taste structure better than popularity, it is
// deterministic and resumes bit-identically mid-epoch, round-trips its weights and artifacts,
// rejects bad keys and tensors, and (with a GPU) trains on CUDA to the CPU's numbers.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "aisle/autograd/scatter.hpp"
#include "aisle/data/graph.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "aisle/models/ngcf.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/random.hpp"
#include "aisle/serve/artifact.hpp"
#include "aisle/train/export.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/ngcf/model.hpp"
#include "support/artifact_testing.hpp"
#include "support/model_testing.hpp"
#include "support/omp_threads.hpp"
#include "support/temp_dir.hpp"
#include "support/thread_communicator.hpp"
#include "support/testing.hpp"

namespace aisle::models::ngcf {
namespace {

using testing::all_close;
using testing::error_message;
using testing::expect_same_bits;
using testing::snapshot;

constexpr int64_t kUsers = 400, kItems = 240;  // testing::planted_taste_split's defaults

recipe::Recipe ngcf_recipe(const std::string& model_keys = "", const std::string& train_keys = "") {
  const std::string sizes = model_keys.find("factors") == std::string::npos
                                ? ", factors: 16, layer_sizes: [16, 8]"
                                : "";
  return recipe::Recipe::load_text("data: {path: unused}\nmodel: {type: ngcf" + sizes + model_keys +
                                       "}\ntrain: {lr: 0.01, batch_size: 256" + train_keys + "}\n",
                                   "test.yaml", {}, train::training_schema());
}

struct Fixture {
  data::Split split = testing::planted_taste_split(7);
  std::shared_ptr<const data::UserItemIndex> train_index = std::make_shared<data::UserItemIndex>(split.train);
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();

  train::TrainingData training() const { return {split.train, train_index, kUsers, kItems}; }

  std::unique_ptr<Ngcf> model(const recipe::Recipe& r, Device device = Device::cpu(), uint64_t seed = 11) const {
    auto m = std::make_unique<Ngcf>();
    m->configure(r);
    m->setup(training(), train::ModelContext{device, seed, comm.get()});
    return m;
  }

  eval::EvalResult evaluate(const eval::Scorer& scorer, Device device = Device::cpu()) const {
    eval::FullRankingOptions o;
    o.ks = {10};
    o.device = device;
    return eval::evaluate_full_ranking(scorer, *train_index, data::UserItemIndex(split.test), o);
  }
};

// ---- a tiny graph, computed by hand ---------------------------------------------------------

constexpr int64_t kTinyUsers = 4, kTinyItems = 5, kTinyNodes = kTinyUsers + kTinyItems, kTinyFactors = 3;
const std::vector<int64_t> kTinySizes{4, 2};
constexpr double kTinyReg = 0.1, kTinyLr = 0.01;

// Item 4 is nobody's: an isolated node that is still drawn as a negative. (0, 1) is repeated.
data::Interactions tiny_interactions() {
  return data::Interactions::from_vectors(std::vector<int64_t>{0, 0, 1, 1, 2, 2, 2, 3, 0},
                                          std::vector<int64_t>{0, 1, 1, 2, 0, 2, 3, 3, 1}, kTinyUsers, kTinyItems);
}

using Matrix = std::vector<std::vector<double>>;

Matrix matrix(int64_t rows, int64_t cols, const double* values) {
  Matrix m(static_cast<size_t>(rows), std::vector<double>(static_cast<size_t>(cols)));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) m[static_cast<size_t>(r)][static_cast<size_t>(c)] = values[r * cols + c];
  return m;
}

double leaky(double x) { return x > 0 ? x : 0.2 * x; }

// NGCF's loss written out with dense matrices in double: its own Â, plain loops for the layers,
// the normalisation, the scores, softplus and the L2. `theta` holds the parameters flattened in
// the model's order (ego, then each layer's w1, b1, w2, b2); masks[l] is [nodes * d_l] or empty.
double reference_loss(const std::vector<double>& theta, const std::vector<std::vector<double>>& masks,
                      const std::vector<int64_t>& users, const std::vector<int64_t>& items,
                      const std::vector<int64_t>& negatives, int64_t k) {
  const int64_t n = kTinyNodes;
  Matrix adj(n, std::vector<double>(n, 0.0));
  const auto u = tiny_interactions().users.to_vector<int64_t>(), it = tiny_interactions().items.to_vector<int64_t>();
  for (size_t r = 0; r < u.size(); ++r) {
    adj[static_cast<size_t>(u[r])][static_cast<size_t>(kTinyUsers + it[r])] = 1;
    adj[static_cast<size_t>(kTinyUsers + it[r])][static_cast<size_t>(u[r])] = 1;
  }
  std::vector<double> degree(n, 0.0);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) degree[a] += adj[a][b];
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b)
      if (adj[a][b] != 0) adj[a][b] = 1.0 / std::sqrt(degree[a] * degree[b]);

  const double* p = theta.data();
  const Matrix ego = matrix(n, kTinyFactors, p);
  p += n * kTinyFactors;
  Matrix e = ego, final_rows = ego;
  int64_t d_in = kTinyFactors;
  for (size_t l = 0; l < kTinySizes.size(); ++l) {
    const int64_t d_out = kTinySizes[l];
    const Matrix w1 = matrix(d_in, d_out, p);
    const double* b1 = p + d_in * d_out;
    const Matrix w2 = matrix(d_in, d_out, b1 + d_out);
    const double* b2 = b1 + d_out + d_in * d_out;
    p = b2 + d_out;
    Matrix side(n, std::vector<double>(d_in, 0.0)), next(n, std::vector<double>(d_out, 0.0));
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b)
        for (int64_t c = 0; c < d_in; ++c) side[a][c] += adj[a][b] * e[b][c];
    for (int64_t a = 0; a < n; ++a) {
      double norm = 0;
      for (int64_t o = 0; o < d_out; ++o) {
        double s = b1[o], bi = b2[o];
        for (int64_t c = 0; c < d_in; ++c) {
          s += (side[a][c] + e[a][c]) * w1[c][o];
          bi += e[a][c] * side[a][c] * w2[c][o];
        }
        next[a][o] = leaky(s) + leaky(bi);
        if (!masks.empty()) next[a][o] *= masks[l][static_cast<size_t>(a * d_out + o)];
        norm += next[a][o] * next[a][o];
      }
      // tf.math.l2_normalize's floor: a row that dropout zeroed stays zero.
      for (int64_t o = 0; o < d_out; ++o) final_rows[a].push_back(next[a][o] / std::sqrt(std::max(norm, 1e-12)));
    }
    e = next;
    d_in = d_out;
  }
  auto dot = [](const std::vector<double>& x, const std::vector<double>& y) {
    double s = 0;
    for (size_t c = 0; c < x.size(); ++c) s += x[c] * y[c];
    return s;
  };
  const int64_t batch = static_cast<int64_t>(users.size());
  double ranking = 0, l2 = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t user = users[b], item = items[b];
    l2 += dot(ego[user], ego[user]) + dot(ego[item], ego[item]);
    for (int64_t c = 0; c < k; ++c) {
      const int64_t neg = negatives[b * k + c];
      ranking += std::log1p(std::exp(dot(final_rows[user], final_rows[neg]) - dot(final_rows[user], final_rows[item])));
      l2 += dot(ego[neg], ego[neg]) / static_cast<double>(k);
    }
  }
  return ranking / static_cast<double>(batch * k) + kTinyReg / (2.0 * static_cast<double>(batch)) * l2;
}

std::vector<double> flat_params(const Params& params) {
  std::vector<double> theta = params.ego.value().to_doubles();
  for (const Layer& layer : params.layers)
    for (const Var* v : {&layer.w1, &layer.b1, &layer.w2, &layer.b2}) {
      const std::vector<double> x = v->value().to_doubles();
      theta.insert(theta.end(), x.begin(), x.end());
    }
  return theta;
}

struct Tiny {
  data::Interactions train = tiny_interactions();
  std::shared_ptr<const data::UserItemIndex> index = std::make_shared<data::UserItemIndex>(train);
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();
  std::unique_ptr<Ngcf> model = std::make_unique<Ngcf>();

  explicit Tiny(double dropout = 0.5) {
    model->configure(ngcf_recipe(", factors: 3, layer_sizes: [4, 2], reg: 0.1, message_dropout: " +
                                     std::to_string(dropout),
                                 ", batch_size: 100, negatives: 2, lr: 0.01"));
    model->setup({train, index, kTinyUsers, kTinyItems}, train::ModelContext{Device::cpu(), 5, comm.get()});
  }
};

// One step's loss (with this step's dropout masks) is the dense reference's, and the step moves
// every parameter as Adam's first update must: by lr * g / (|g| + eps) against the reference's
// finite-difference gradient g.
TEST(Ngcf, FirstStepMatchesDenseReference) {
  Tiny tiny;
  Ngcf& m = *tiny.model;
  ASSERT_EQ(m.steps_per_epoch(), 1);
  const BatchIds ids = m.batch_ids(0, 0);
  ASSERT_EQ(ids.users.numel(), 9);
  const auto users = ids.users.to_vector<int64_t>(), items = ids.items.to_vector<int64_t>(),
             negatives = ids.negatives.to_vector<int64_t>();
  for (size_t b = 0; b < users.size(); ++b)
    for (size_t c = 0; c < 2; ++c) {
      const int64_t neg = negatives[b * 2 + c];
      ASSERT_GE(neg, kTinyUsers) << "negatives are item nodes";
      EXPECT_FALSE(tiny.index->contains(users[b], neg - kTinyUsers)) << "user " << users[b] << " node " << neg;
    }
  std::vector<std::vector<double>> masks;
  for (const Tensor& mask : m.dropout_masks(0, 0)) masks.push_back(mask.to_doubles());
  ASSERT_EQ(masks.size(), 2u);
  int dropped = 0;
  for (const auto& mask : masks)
    for (const double x : mask) {
      EXPECT_TRUE(x == 0 || x == 2.0) << x;
      dropped += x == 0;
    }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, kTinyNodes * 6);

  const std::vector<double> before = flat_params(m.params());
  const double expected = reference_loss(before, masks, users, items, negatives, 2);
  double reported = 0;
  m.train_steps(0, 0, [&](const train::StepReport& s) {
    reported = s.loss;
    return true;
  });
  EXPECT_NEAR(reported, expected, 1e-5 * expected);

  const std::vector<double> after = flat_params(m.params());
  ASSERT_EQ(after.size(), before.size());
  int checked = 0;
  for (size_t x = 0; x < before.size(); ++x) {
    std::vector<double> plus = before, minus = before;
    plus[x] += 1e-6;
    minus[x] -= 1e-6;
    const double g = (reference_loss(plus, masks, users, items, negatives, 2) -
                      reference_loss(minus, masks, users, items, negatives, 2)) / 2e-6;
    if (std::abs(g) < 1e-4) continue;  // Adam's first step is ~lr sign(g): rounding decides tiny ones
    ++checked;
    EXPECT_NEAR(after[x] - before[x], -kTinyLr * g / (std::abs(g) + 1e-8), 2e-5) << "parameter " << x << ", g " << g;
  }
  EXPECT_GT(checked, static_cast<int>(before.size()) / 2);
}

// The loss as a function of the ego table and every W and b, in float64, against central
// differences, with 0, 1 and 2 layers (no dropout).
TEST(Ngcf, LossGradientPassesFiniteDifferences) {
  Tiny tiny;
  const SparseOperator graph(data::bipartite_graph(*tiny.index, data::GraphOptions{.dtype = DType::f64}).adjacency);
  const BatchIds ids = tiny.model->batch_ids(0, 0);
  for (const std::vector<int64_t>& sizes : {std::vector<int64_t>{}, {3}, {5, 2}}) {
    SCOPED_TRACE(::testing::Message() << sizes.size() << " layers");
    Generator gen(3);
    std::vector<Tensor> inputs{testing::random_tensor({kTinyNodes, 4}, gen)};
    int64_t d_in = 4;
    for (const int64_t d : sizes) {
      for (const Shape& shape : {Shape{d_in, d}, Shape{d}, Shape{d_in, d}, Shape{d}})
        inputs.push_back(testing::random_tensor(shape, gen));
      d_in = d;
    }
    EXPECT_TRUE(testing::gradients_match(
        [&](const std::vector<Var>& x) {
          Params p{x[0], {}};
          for (size_t l = 0; l < sizes.size(); ++l)
            p.layers.push_back(Layer{x[1 + 4 * l], x[2 + 4 * l], x[3 + 4 * l], x[4 + 4 * l]});
          return batch_loss(graph, p, ids, 0.3);
        },
        inputs));
  }
}

// The batch's rows with the last layer computed for them alone are the rows of the whole final
// table, with the same gradient for every parameter, with and without message and node dropout.
TEST(Ngcf, BatchRowsOfThePropagationAreThoseOfTheWholeTable) {
  Tiny tiny;
  const SparseOperator& graph = tiny.model->graph();
  const Tensor rows = Tensor::from_vector<int64_t>({0, 2, 3, 7, kTinyNodes - 1});
  for (const std::vector<int64_t>& sizes : {std::vector<int64_t>{}, {3}, {5, 2}, {4, 4, 3}}) {
    Generator gen(4);
    std::vector<Tensor> inputs{testing::random_tensor({kTinyNodes, 4}, gen, DType::f32)};
    std::vector<Tensor> masks;
    int64_t d_in = 4;
    for (const int64_t d : sizes) {
      for (const Shape& shape : {Shape{d_in, d}, Shape{d}, Shape{d_in, d}, Shape{d}})
        inputs.push_back(testing::random_tensor(shape, gen, DType::f32));
      masks.push_back(ops::dropout_mask({kTinyNodes, d}, 0.3, gen));
      d_in = d;
    }
    const auto params_of = [&](const std::vector<Var>& x) {
      Params p{x[0], {}};
      for (size_t l = 0; l < sizes.size(); ++l)
        p.layers.push_back(Layer{x[1 + 4 * l], x[2 + 4 * l], x[3 + 4 * l], x[4 + 4 * l]});
      return p;
    };
    for (const bool dropout : {false, true}) {
      SCOPED_TRACE(::testing::Message() << sizes.size() << " layers, dropout " << dropout);
      const std::vector<Tensor> layer_masks = dropout ? masks : std::vector<Tensor>{};
      const Tensor edges = dropout ? edge_dropout_values(graph, 9, 1, 0.4) : Tensor();
      const auto picked = testing::value_and_grads(
          [&](const std::vector<Var>& x) { return propagate_rows(graph, params_of(x), rows, layer_masks, edges); },
          inputs, Device::cpu());
      const auto whole = testing::value_and_grads(
          [&](const std::vector<Var>& x) {
            return embedding(propagate(graph, params_of(x), layer_masks, edges), rows);
          },
          inputs, Device::cpu());
      ASSERT_EQ(picked.size(), whole.size());
      for (size_t i = 0; i < picked.size(); ++i)
        EXPECT_TRUE(all_close(picked[i], whole[i], 1e-6, 1e-7)) << (i == 0 ? "value" : "gradient ") << i;
    }
  }
}

TEST(Ngcf, DropoutMasksAreKeyedByStepAndOffWhenZero) {
  const Fixture fx;
  auto m = fx.model(ngcf_recipe(", message_dropout: 0.3"));
  const auto a = m->dropout_masks(2, 5), again = m->dropout_masks(2, 5), other = m->dropout_masks(2, 6),
             next_epoch = m->dropout_masks(3, 5);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].shape(), (Shape{kUsers + kItems, 16}));
  EXPECT_EQ(a[1].shape(), (Shape{kUsers + kItems, 8}));
  expect_same_bits({{"0", a[0]}, {"1", a[1]}}, {{"0", again[0]}, {"1", again[1]}});
  EXPECT_NE(a[0].to_doubles(), other[0].to_doubles());
  EXPECT_NE(a[0].to_doubles(), next_epoch[0].to_doubles());
  double zeros = 0;
  const std::vector<double> x = a[0].to_doubles();
  for (const double v : x) zeros += v == 0;
  EXPECT_NEAR(zeros / static_cast<double>(x.size()), 0.3, 0.02);
  EXPECT_TRUE(fx.model(ngcf_recipe(", message_dropout: 0"))->dropout_masks(0, 0).empty());
}

// Node dropout: each adjacency entry is zero or its value / (1 - rate), at about the rate, keyed
// by (epoch, step), and off by default (the reference code's node_dropout_flag = 0).
TEST(Ngcf, NodeDropoutDropsEdgesKeyedByStep) {
  const Fixture fx;
  auto m = fx.model(ngcf_recipe(", node_dropout: 0.25"));
  const std::vector<double> full = m->graph().matrix().values.to_doubles();
  const Tensor a = m->edge_values(2, 5);
  ASSERT_TRUE(a.defined());
  const std::vector<double> v = a.to_doubles();
  ASSERT_EQ(v.size(), full.size());
  double dropped = 0;
  for (size_t e = 0; e < v.size(); ++e) {
    if (v[e] == 0) {
      ++dropped;
      continue;
    }
    EXPECT_EQ(v[e], static_cast<double>(static_cast<float>(full[e]) * (1.0f / 0.75f))) << "entry " << e;
  }
  EXPECT_NEAR(dropped / static_cast<double>(v.size()), 0.25, 0.02);
  EXPECT_EQ(m->edge_values(2, 5).to_doubles(), v);
  EXPECT_NE(m->edge_values(2, 6).to_doubles(), v);
  EXPECT_NE(m->edge_values(3, 5).to_doubles(), v);
  EXPECT_FALSE(fx.model(ngcf_recipe())->edge_values(0, 0).defined());
}

// Under node dropout a step is the step of NGCF on the thinned graph: the loss and every
// gradient equal, bit for bit, those computed with an operator built from the dropped values.
// And the thinned propagation passes finite differences (in f64).
TEST(Ngcf, NodeDropoutStepIsTheStepOnTheThinnedGraph) {
  const Fixture fx;
  auto m = fx.model(ngcf_recipe(", node_dropout: 0.3, message_dropout: 0.1"));
  const BatchIds ids = m->batch_ids(0, 0);
  const Tensor values = m->edge_values(0, 0);
  const std::vector<Tensor> masks = m->dropout_masks(0, 0);
  ops::Csr thinned = m->graph().matrix();
  thinned.values = values;
  const SparseOperator thinned_op(thinned);
  const Params& p = m->params();
  std::vector<Var> leaves{p.ego};
  for (const Layer& layer : p.layers)
    for (const Var* v : {&layer.w1, &layer.b1, &layer.w2, &layer.b2}) leaves.push_back(*v);
  const auto loss_and_grads = [&](const SparseOperator& graph, const Tensor& edge_values) {
    for (Var& v : leaves) v.zero_grad();
    Var loss = batch_loss(graph, p, ids, 1e-4, masks, edge_values);
    loss.backward();
    std::map<std::string, Tensor> out{{"loss", loss.value().clone()}};
    for (size_t i = 0; i < leaves.size(); ++i) out["grad" + std::to_string(i)] = leaves[i].grad().clone();
    return out;
  };
  const auto dropped = loss_and_grads(m->graph(), values);
  const auto reference = loss_and_grads(thinned_op, Tensor());
  expect_same_bits(dropped, reference);
  const auto undropped = loss_and_grads(m->graph(), Tensor());
  EXPECT_NE(undropped.at("loss").to_doubles(), dropped.at("loss").to_doubles());

  Tiny tiny(0.0);
  const SparseOperator graph64(data::bipartite_graph(*tiny.index, data::GraphOptions{.dtype = DType::f64}).adjacency);
  const Tensor values64 = edge_dropout_values(graph64, 7, 11, 0.4);
  const BatchIds tiny_ids = tiny.model->batch_ids(0, 0);
  Generator gen(5);
  const std::vector<Tensor> inputs{testing::random_tensor({kTinyNodes, 3}, gen), testing::random_tensor({3, 2}, gen),
                                   testing::random_tensor({2}, gen), testing::random_tensor({3, 2}, gen),
                                   testing::random_tensor({2}, gen)};
  EXPECT_TRUE(testing::gradients_match(
      [&](const std::vector<Var>& x) {
        return batch_loss(graph64, Params{x[0], {Layer{x[1], x[2], x[3], x[4]}}}, tiny_ids, 0.3, {}, values64);
      },
      inputs));
}

TEST(Ngcf, LearnsPlantedTastesBetterThanPopularity) {
  const Fixture fx;
  auto m = train::create_model("ngcf");
  m->configure(ngcf_recipe(", layer_sizes: [16, 16], factors: 16"));
  m->setup(fx.training(), train::ModelContext{Device::cpu(), 3, fx.comm.get()});
  const std::vector<double> losses = testing::epoch_losses(*m, 0, 15);
  EXPECT_LT(losses.back(), 0.6 * losses.front());

  const Tensor counts = [&] {
    std::vector<float> c(kItems, 0.0f);
    for (int64_t i : fx.split.train.items.to_vector<int64_t>()) c[static_cast<size_t>(i)] += 1;
    return Tensor::from_vector(c);
  }();
  const eval::EvalResult popularity = fx.evaluate([&](const Tensor& users) {
    return ops::broadcast_to(counts.reshape({1, kItems}), {users.numel(), kItems});
  });
  const eval::EvalResult ngcf = fx.evaluate([&](const Tensor& users) { return m->score_users(users); });
  std::printf("Recall@10 %.4f (popularity %.4f), NDCG@10 %.4f (popularity %.4f)\n", ngcf.at("Recall@10"),
              popularity.at("Recall@10"), ngcf.at("NDCG@10"), popularity.at("NDCG@10"));
  EXPECT_GT(ngcf.at("Recall@10"), 2 * popularity.at("Recall@10"));
  EXPECT_GT(ngcf.at("NDCG@10"), 2 * popularity.at("NDCG@10"));
}

// Evaluation scores come from the final embeddings without dropout: the cache follows training.
TEST(Ngcf, ScoresUseFinalEmbeddingsAndFollowTraining) {
  const Fixture fx;
  auto m = fx.model(ngcf_recipe());
  const Tensor users = Tensor::from_vector(std::vector<int64_t>{3, 9});
  auto expected_scores = [&] {
    const Tensor all = propagate(m->graph(), m->params()).value();
    std::vector<double> out;
    const auto f = all.to_doubles();
    const int64_t w = all.size(1);
    for (const int64_t u : {3, 9})
      for (int64_t i = 0; i < kItems; ++i) {
        double s = 0;
        for (int64_t c = 0; c < w; ++c) s += f[u * w + c] * f[(kUsers + i) * w + c];
        out.push_back(s);
      }
    return Tensor::from_vector(out, {2, kItems}).to(DType::f32);
  };
  const Tensor before = m->score_users(users).clone();
  EXPECT_EQ(before.shape(), (Shape{2, kItems}));
  EXPECT_TRUE(testing::all_close(before, expected_scores(), 1e-5, 1e-6));
  testing::epoch_losses(*m, 0, 1);
  EXPECT_FALSE(testing::all_close(m->score_users(users), before, 1e-3, 1e-4)) << "stale cache after training";
  EXPECT_TRUE(testing::all_close(m->score_users(users), expected_scores(), 1e-5, 1e-6));
}

TEST(Ngcf, DeterministicAcrossRunsAndThreadCounts) {
  const Fixture fx;
  const recipe::Recipe r = ngcf_recipe(", factors: 32, layer_sizes: [32, 16]", ", negatives: 2, batch_size: 1000");
  testing::expect_deterministic_over_threads([&] { return fx.model(r); });
}

// With message and node dropout on, so that a resumed run must redraw the same masks.
TEST(Ngcf, ResumesBitIdenticallyAfterAnEpochAndMidEpoch) {
  const Fixture fx;
  const recipe::Recipe r = ngcf_recipe(", message_dropout: 0.2, node_dropout: 0.1");
  testing::expect_exact_resume([&] { return fx.model(r); });
}

TEST(Ngcf, WeightsRoundTripAndScoreIdentically) {
  const Fixture fx;
  auto m = fx.model(ngcf_recipe());
  testing::epoch_losses(*m, 0, 2);
  const auto w = m->weights();
  EXPECT_EQ(w.size(), 2u + 1u + 2u * 4u);
  EXPECT_EQ(w.at("user_embeddings").shape(), (Shape{kUsers, 16 + 16 + 8}));
  EXPECT_EQ(w.at("item_embeddings").shape(), (Shape{kItems, 40}));
  EXPECT_EQ(w.at("ego_embeddings").shape(), (Shape{kUsers + kItems, 16}));
  EXPECT_EQ(w.at("layer1.w2").shape(), (Shape{16, 8}));
  EXPECT_EQ(w.at("layer1.b1").shape(), (Shape{8}));
  for (const auto& [name, t] : w) EXPECT_TRUE(m->state().count(name)) << "state() lacks weight " << name;

  std::map<std::string, Tensor> served_only{{"user_embeddings", w.at("user_embeddings").clone()},
                                            {"item_embeddings", w.at("item_embeddings").clone()}};
  for (const auto& source : {snapshot(w), snapshot(m->state()), served_only}) {
    auto served = train::create_model("ngcf");
    served->load_weights(source, Device::cpu());
    const Tensor users = Tensor::from_vector(std::vector<int64_t>{0, 5, 399, 5});
    const Tensor a = m->score_users(users), b = served->score_users(users);
    ASSERT_EQ(b.shape(), (Shape{4, kItems}));
    EXPECT_EQ(0, std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()));
    EXPECT_EQ(served->dimensions(), m->dimensions());
    EXPECT_EQ(served->weights().size(), source.size() == 2 ? 2u : w.size());
  }
  auto served = train::create_model("ngcf");
  served->load_weights(snapshot(w), Device::cpu());
  expect_same_bits(served->weights(), w);
}

// Exported like any model and served by aisle::Artifact: recommendations are the trained model's
// ranking, seen items left out.
TEST(Ngcf, ExportedArtifactRecommendsLikeTheModel) {
  const Fixture fx;
  auto m = fx.model(ngcf_recipe());
  testing::epoch_losses(*m, 0, 3);
  testing::expect_artifact_recommends_like_the_model(*m, *fx.train_index, "ngcf", {0, 17, 399});
}

TEST(Ngcf, BadWeightsAndStatesNameTheTensor) {
  const Fixture fx;
  auto m = fx.model(ngcf_recipe());
  auto w = snapshot(m->weights());
  auto served = train::create_model("ngcf");
  w.erase("item_embeddings");
  EXPECT_MESSAGE_HAS(testing::artifact_error_message([&] { served->load_weights(w, Device::cpu()); }),
                     "'item_embeddings' is missing");
  w["item_embeddings"] = Tensor::zeros({kItems, 39});
  EXPECT_MESSAGE_HAS(error_message([&] { served->load_weights(w, Device::cpu()); }),
                     "'item_embeddings' has shape [240, 39]");
  w = snapshot(m->weights());
  w["layer1.w1"] = Tensor::zeros({15, 8});
  EXPECT_MESSAGE_HAS(error_message([&] { served->load_weights(w, Device::cpu()); }), "'layer1.w1' has shape [15, 8]");
  w = snapshot(m->weights());
  w.erase("layer1.b2");
  EXPECT_MESSAGE_HAS(error_message([&] { served->load_weights(w, Device::cpu()); }), "'layer1.b2' is missing");

  auto state = snapshot(m->state());
  state.erase("optimizer.param3.exp_avg_sq");
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "optimizer.param3.exp_avg_sq");
  state = snapshot(m->state());
  state["layer0.b1"] = Tensor::zeros({17});
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'layer0.b1' has shape [17]");
  state = snapshot(m->state());
  state.erase("layer1.w2");
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'layer1.w2' is missing");
  state = snapshot(m->state());
  state["item_bias"] = Tensor::zeros({kItems});
  EXPECT_MESSAGE_HAS(error_message([&] { m->load_state(state); }), "'item_bias' is not part of this model");
}

TEST(Ngcf, BadKeysNameTheKey) {
  auto load = [](const std::string& yaml) {
    return error_message([&] { recipe::Recipe::load_text(yaml, "test.yaml", {}, train::training_schema()); });
  };
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: ngcf, layer_sizes: [64, 0]}\n"), "model.layer_sizes");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: ngcf, layer_sizes: [64, wide]}\n"), "model.layer_sizes");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: ngcf, reg: -1e-5}\n"), "model.reg");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: ngcf, factors: 0}\n"), "model.factors");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: ngcf, message_dropout: -0.1}\n"), "model.message_dropout");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: ngcf, layers: 3}\n"), "model.layers");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: ngcf}\ntrain: {optimizer: sgd}\n"), "train.optimizer");
  EXPECT_MESSAGE_HAS(load("data: {path: x}\nmodel: {type: ngcf}\ntrain: {negatives: 0}\n"), "train.negatives");
  Ngcf m;
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(ngcf_recipe("", ", lr: 0")); }), "train.lr");
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(ngcf_recipe(", message_dropout: 1")); }),
                     "model.message_dropout");
  EXPECT_MESSAGE_HAS(error_message([&] { m.configure(ngcf_recipe(", node_dropout: 1")); }),
                     "model.node_dropout must be below 1, got 1");
}

TEST(Ngcf, DescribesItselfAndRefusesSeveralRanks) {
  const Fixture fx;
  auto m = fx.model(ngcf_recipe());
  EXPECT_EQ(m->type(), "ngcf");
  EXPECT_EQ(m->feedback(), train::Feedback::implicit);
  EXPECT_FALSE(m->trains_on_ranks());
  EXPECT_EQ(m->dimensions().at("users"), kUsers);
  EXPECT_EQ(m->dimensions().at("width"), 40);
  EXPECT_MESSAGE_HAS(m->hyperparameters_json(), "\"layer_sizes\":[16,8]");
  EXPECT_EQ(train::model_info("ngcf").feedback, train::Feedback::implicit);
  // setup() throws before any collective, so one rank of two can be asked alone.
  const auto comms = testing::make_thread_communicators(2);
  Ngcf on_ranks;
  on_ranks.configure(ngcf_recipe());
  EXPECT_MESSAGE_HAS(error_message([&] {
                       on_ranks.setup(fx.training(), train::ModelContext{Device::cpu(), 1, comms[0].get()});
                     }),
                     "ngcf: trains in one process only, not on 2 ranks");
  // The paper's settings.
  const recipe::Recipe defaults = testing::model_recipe("{type: ngcf}");
  EXPECT_EQ(defaults.integer("model.factors"), 64);
  EXPECT_EQ(defaults.integers("model.layer_sizes"), (std::vector<int64_t>{64, 64, 64}));
  EXPECT_EQ(defaults.number("model.reg"), 1e-5);
  EXPECT_EQ(defaults.number("model.message_dropout"), 0.1);
  EXPECT_EQ(defaults.number("train.lr"), 1e-4);
  EXPECT_EQ(defaults.integer("train.batch_size"), 1024);
  EXPECT_EQ(defaults.integer("train.negatives"), 1);
}

// The same steps on CUDA (the op catalogue's kernels; parameters initialised on the host and
// dropout masks drawn from the same Philox streams) give the CPU's losses and weights to rounding.
TEST(NgcfCuda, TrainingMatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Fixture fx;
  const recipe::Recipe r = ngcf_recipe(", message_dropout: 0.1", ", negatives: 2");
  auto cpu = fx.model(r);
  auto gpu = fx.model(r, testing::gpu());
  testing::expect_cuda_training_matches_cpu(*cpu, *gpu, 2);
  // Node dropout too: the propagation through spmm with per-edge values drawn on the device.
  const recipe::Recipe dropped = ngcf_recipe(", message_dropout: 0.1, node_dropout: 0.2", ", negatives: 2");
  testing::expect_cuda_training_matches_cpu(*fx.model(dropped), *fx.model(dropped, testing::gpu()), 2);
  const double cpu_ndcg = fx.evaluate([&](const Tensor& u) { return cpu->score_users(u); }).at("NDCG@10");
  const double gpu_ndcg =
      fx.evaluate([&](const Tensor& u) { return gpu->score_users(u); }, testing::gpu()).at("NDCG@10");
  EXPECT_NEAR(cpu_ndcg, gpu_ndcg, 0.01);
}

}  // namespace
}  // namespace aisle::models::ngcf
