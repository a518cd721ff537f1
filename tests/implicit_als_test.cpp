#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "aisle/data/split.hpp"
#include "aisle/dist/communicator.hpp"
#include "aisle/eval/full_ranking.hpp"
#include "aisle/models/implicit_als.hpp"
#include "aisle/ops/elementwise.hpp"
#include "aisle/ops/matmul.hpp"
#include "aisle/ops/random.hpp"
#include "aisle/recipe/recipe.hpp"
#include "aisle/train/model_registry.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "src/models/implicit_als/batched_cg.hpp"
#include "src/models/implicit_als/cpu_solver.hpp"
#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle::models {
namespace {

using testing::error_message;

recipe::Recipe recipe_of(const std::string& model_keys) {
  return recipe::Recipe::load_text("data: {path: unused}\nmodel: {type: als, " + model_keys + "}\n", "test.yaml", {},
                                   train::training_schema());
}

train::TrainingData training_data(const data::Interactions& rows) {
  train::TrainingData d;
  d.train = rows;
  d.train_index = std::make_shared<data::UserItemIndex>(rows);
  d.num_users = rows.num_users;
  d.num_items = rows.num_items;
  return d;
}

// Random rows with repeated (user, item) pairs and values in [0.5, 3); the last user has none.
data::Interactions random_rows(int64_t users, int64_t items, int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> u, i;
  std::vector<float> v;
  for (int64_t k = 0; k < n; ++k) {
    u.push_back(static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(users - 1))));
    i.push_back(static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(items))));
    v.push_back(0.5f + 2.5f * static_cast<float>(gen.next_double()));
    if (k % 7 == 0) {  // a repeat of this pair
      u.push_back(u.back());
      i.push_back(i.back());
      v.push_back(1.0f);
    }
  }
  return data::Interactions::from_vectors(u, i, users, items, v);
}

struct AlsRun {
  std::unique_ptr<dist::Communicator> comm = dist::make_local_communicator();
  std::unique_ptr<train::Model> model = train::create_model("als");
  std::vector<train::StepReport> reports;

  AlsRun(const std::string& keys, const data::Interactions& rows, uint64_t seed = 7, Device device = Device::cpu()) {
    model->configure(recipe_of(keys));
    model->setup(training_data(rows), {.device = device, .seed = seed, .comm = comm.get()});
  }
  void epochs(int64_t first, int64_t last) {
    for (int64_t e = first; e < last; ++e)
      model->train_steps(e, 0, [&](const train::StepReport& r) { reports.push_back(r); return true; });
  }
  Tensor factors(const char* name) const { return model->weights().at(name); }
};

// sum_ui c (p - x.y)^2 + reg (|X|^2 + |Y|^2) over all cells / cells, with plain loops.
double plain_objective(const data::Interactions& rows, const Tensor& x, const Tensor& y, double alpha, double reg) {
  const int64_t users = x.size(0), items = y.size(0), f = x.size(1);
  const std::vector<double> hx = x.to_doubles(), hy = y.to_doubles();
  std::map<std::pair<int64_t, int64_t>, double> r;
  const auto ru = rows.users.to_vector<int64_t>(), ri = rows.items.to_vector<int64_t>();
  const auto rv = rows.values.to_vector<float>();
  for (size_t k = 0; k < ru.size(); ++k) r[{ru[k], ri[k]}] += rv[k];
  double total = 0;
  for (int64_t u = 0; u < users; ++u)
    for (int64_t i = 0; i < items; ++i) {
      double s = 0;
      for (int64_t k = 0; k < f; ++k) s += hx[static_cast<size_t>(u * f + k)] * hy[static_cast<size_t>(i * f + k)];
      const auto it = r.find({u, i});
      const double c = it == r.end() ? 1.0 : 1.0 + alpha * it->second;
      const double p = it == r.end() ? 0.0 : 1.0;
      total += c * (p - s) * (p - s);
    }
  for (double v : hx) total += reg * v * v;
  for (double v : hy) total += reg * v * v;
  return total / static_cast<double>(users * items);
}

// Each user's exact minimiser given the item factors y: (Y^T C_u Y + reg I) x = Y^T C_u 1,
// built over every item and solved by Gaussian elimination with partial pivoting, in double.
std::vector<double> dense_user_solution(const data::Interactions& rows, const Tensor& y, int64_t users,
                                        const std::function<double(double)>& confidence, double reg) {
  const int64_t items = y.size(0), f = y.size(1);
  const std::vector<double> hy = y.to_doubles();
  std::map<std::pair<int64_t, int64_t>, double> r;
  const auto ru = rows.users.to_vector<int64_t>(), ri = rows.items.to_vector<int64_t>();
  const auto rv = rows.values.to_vector<float>();
  for (size_t k = 0; k < ru.size(); ++k) r[{ru[k], ri[k]}] += rv[k];
  std::vector<double> out(static_cast<size_t>(users * f), 0.0);
  for (int64_t u = 0; u < users; ++u) {
    std::vector<std::vector<double>> a(static_cast<size_t>(f), std::vector<double>(static_cast<size_t>(f + 1), 0.0));
    bool any = false;
    for (int64_t i = 0; i < items; ++i) {
      const auto it = r.find({u, i});
      const double c = it == r.end() ? 1.0 : confidence(it->second);
      const double p = it == r.end() ? 0.0 : 1.0;
      any = any || it != r.end();
      for (int64_t j = 0; j < f; ++j) {
        const double yj = hy[static_cast<size_t>(i * f + j)];
        for (int64_t k = 0; k < f; ++k) a[j][k] += c * yj * hy[static_cast<size_t>(i * f + k)];
        a[j][f] += c * p * yj;
      }
    }
    if (!any) continue;  // no cells: the zero vector
    for (int64_t j = 0; j < f; ++j) a[j][j] += reg;
    for (int64_t col = 0; col < f; ++col) {
      int64_t pivot = col;
      for (int64_t row = col + 1; row < f; ++row)
        if (std::abs(a[row][col]) > std::abs(a[pivot][col])) pivot = row;
      std::swap(a[col], a[pivot]);
      for (int64_t row = 0; row < f; ++row) {
        if (row == col) continue;
        const double m = a[row][col] / a[col][col];
        for (int64_t k = col; k <= f; ++k) a[row][k] -= m * a[col][k];
      }
    }
    for (int64_t j = 0; j < f; ++j) out[static_cast<size_t>(u * f + j)] = a[j][f] / a[j][j];
  }
  return out;
}

void expect_near_vectors(const std::vector<double>& actual, const std::vector<double>& expected, double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t k = 0; k < actual.size(); ++k)
    ASSERT_NEAR(actual[k], expected[k], tol * (1.0 + std::abs(expected[k]))) << "element " << k;
}

void run_user_half_step(AlsRun& run) {
  run.model->train_steps(0, 0, [&](const train::StepReport& r) { run.reports.push_back(r); return false; });
}

TEST(ImplicitAls, ConjugateGradientWithEnoughStepsReachesTheDenseSolution) {
  const data::Interactions rows = random_rows(12, 9, 40, 3);
  struct Case {
    std::string keys;
    std::function<double(double)> confidence;
  };
  const Case cases[] = {
      {"factors: 5, reg: 0.3, alpha: 2, cg_steps: 40", [](double r) { return 1 + 2 * r; }},
      {"factors: 5, reg: 0.3, alpha: 3, confidence: log, epsilon: 0.5, cg_steps: 40",
       [](double r) { return 1 + 3 * std::log1p(r / 0.5); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.keys);
    AlsRun run(c.keys, rows);
    const Tensor y = run.factors("item_factors");
    run_user_half_step(run);
    ASSERT_EQ(run.reports.size(), 1u);  // on_step returned false: the item half-step did not run
    EXPECT_EQ(run.reports[0].step, 0);
    EXPECT_EQ(run.reports[0].steps, 2);
    EXPECT_EQ(run.reports[0].examples, 12);
    EXPECT_EQ(run.factors("item_factors").to_vector<float>(), y.to_vector<float>());
    expect_near_vectors(run.factors("user_factors").to_doubles(), dense_user_solution(rows, y, 12, c.confidence, 0.3),
                        1e-4);
    // The exact solver reaches the same point.
    AlsRun exact(c.keys.substr(0, c.keys.rfind(", cg_steps")) + ", solver: exact", rows);
    run_user_half_step(exact);
    expect_near_vectors(exact.factors("user_factors").to_doubles(),
                        dense_user_solution(rows, y, 12, c.confidence, 0.3), 1e-5);
  }
}

TEST(ImplicitAls, ExactSolveMatchesHandBuiltNormalEquations) {
  // User 0 bought item 0 twice (values 2 and 1: r = 3, c = 4), user 1 item 1 once (c = 2).
  const auto rows = data::Interactions::from_vectors({0, 1, 0}, {0, 1, 0}, 2, 2, {2, 1, 1});
  AlsRun run("factors: 2, reg: 0.5, alpha: 1, solver: exact", rows);
  run.model->load_state({{"user_factors", Tensor::from_vector<float>({9, 9, 9, 9}, {2, 2})},
                         {"item_factors", Tensor::from_vector<float>({1, 1, 0, 2}, {2, 2})}});
  run_user_half_step(run);
  // Y^T Y = [[1, 1], [1, 5]].
  // User 0: A = Y^T Y + 3 y0 y0^T + 0.5 I = [[4.5, 4], [4, 8.5]], b = 4 y0 = (4, 4),
  //   det 22.25, x = (8.5*4 - 4*4, -4*4 + 4.5*4) / 22.25 = (18, 2) / 22.25.
  // User 1: A = Y^T Y + 1 y1 y1^T + 0.5 I = [[1.5, 1], [1, 9.5]], b = 2 y1 = (0, 4),
  //   det 13.25, x = (-4, 6) / 13.25.
  const std::vector<float> x = run.factors("user_factors").to_vector<float>();
  const double expected[] = {18 / 22.25, 2 / 22.25, -4 / 13.25, 6 / 13.25};
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(x[static_cast<size_t>(k)], expected[k], 1e-6) << k;
  EXPECT_NEAR(run.reports[0].loss,
              plain_objective(rows, run.factors("user_factors"), run.factors("item_factors"), 1, 0.5), 1e-6);
}

TEST(ImplicitAls, ExactSolvesNeverRaiseTheObjectiveItReports) {
  const data::Interactions rows = random_rows(30, 20, 150, 5);
  for (const char* keys : {"factors: 6, reg: 0.2, alpha: 4, solver: exact, init_std: 0.5",
                           "factors: 6, reg: 0.2, alpha: 4, init_std: 0.5, cg_steps: 3"}) {
    SCOPED_TRACE(keys);
    AlsRun run(keys, rows);
    std::vector<double> reported, recomputed;
    for (int64_t e = 0; e < 6; ++e)
      run.model->train_steps(e, 0, [&](const train::StepReport& r) {
        reported.push_back(r.loss);
        recomputed.push_back(plain_objective(rows, run.factors("user_factors"), run.factors("item_factors"), 4, 0.2));
        return true;
      });
    ASSERT_EQ(reported.size(), 12u);
    for (size_t k = 0; k < reported.size(); ++k) EXPECT_NEAR(reported[k], recomputed[k], 1e-5 * recomputed[k]) << k;
    EXPECT_LT(reported.back(), 0.5 * reported.front());
    if (std::string(keys).find("exact") == std::string::npos) continue;
    // Each half-step minimises the objective over one side exactly, so it never goes up.
    for (size_t k = 1; k < reported.size(); ++k) EXPECT_LE(reported[k], reported[k - 1] * (1 + 1e-6)) << k;
  }
}

// 400 users in 8 taste groups of 25 items each; 80% of a user's purchases come from their group,
// the rest from the whole catalogue with Zipf-like popularity (so popularity is a fair baseline).
data::Interactions planted_rows(uint64_t seed) {
  const int64_t users = 400, groups = 8, per_group = 25, items = groups * per_group;
  Generator gen(seed);
  std::vector<int64_t> u, i;
  for (int64_t user = 0; user < users; ++user) {
    const int64_t group = user % groups;
    std::set<int64_t> seen;
    while (seen.size() < 20) {
      int64_t item;
      if (gen.next_double() < 0.8) {
        item = group * per_group + static_cast<int64_t>(gen.next_below(per_group));
      } else {
        do item = static_cast<int64_t>(gen.next_below(items));
        while (gen.next_double() > 1.0 / (1.0 + static_cast<double>(item % 50)));
      }
      if (seen.insert(item).second) {
        u.push_back(user);
        i.push_back(item);
      }
    }
  }
  return data::Interactions::from_vectors(u, i, users, items);
}

TEST(ImplicitAls, LearnsPlantedTastesBetterThanPopularity) {
  const data::Split split = data::random_split(planted_rows(11), {0.8, 0.0, 0.2}, true, uint64_t{5});
  const data::UserItemIndex train_index(split.train), test_index(split.test);
  std::vector<float> counts(static_cast<size_t>(split.train.num_items), 0.0f);
  for (int64_t item : split.train.items.to_vector<int64_t>()) counts[static_cast<size_t>(item)] += 1;
  const Tensor popularity = Tensor::from_vector(counts, {1, split.train.num_items});
  const eval::FullRankingOptions options{.ks = {10}};
  const double popular = eval::evaluate_full_ranking(
      [&](const Tensor& users) { return ops::broadcast_to(popularity, {users.numel(), popularity.size(1)}); },
      train_index, test_index, options).at("Recall@10");

  AlsRun run("factors: 8, reg: 0.1, alpha: 10", split.train);
  run.epochs(0, 8);
  const double als = eval::evaluate_full_ranking([&](const Tensor& users) { return run.model->score_users(users); },
                                                 train_index, test_index, options).at("Recall@10");
  EXPECT_GT(als, 3 * popular) << "als " << als << ", popularity " << popular;
  for (size_t k = 2; k < run.reports.size(); k += 2) EXPECT_LE(run.reports[k].loss, run.reports[k - 2].loss) << k;
}

TEST(ImplicitAls, RunsAreDeterministicOnAnyThreadCount) {
  const data::Interactions rows = random_rows(300, 120, 3000, 9);
  for (const char* keys : {"factors: 16, cg_steps: 3", "factors: 16, solver: exact"}) {
    SCOPED_TRACE(keys);
    auto train = [&](uint64_t seed) {
      AlsRun run(keys, rows, seed);
      run.epochs(0, 2);
      return std::pair{run.factors("user_factors").to_vector<float>(), run.factors("item_factors").to_vector<float>()};
    };
    const auto first = train(7);
    EXPECT_EQ(train(7), first);
    std::pair<std::vector<float>, std::vector<float>> one_thread, four_threads;
    if (!testing::with_omp_threads(1, [&] { one_thread = train(7); })) GTEST_SKIP() << "no OpenMP runtime";
    testing::with_omp_threads(4, [&] { four_threads = train(7); });
    EXPECT_EQ(one_thread, first);
    EXPECT_EQ(four_threads, first);
    EXPECT_NE(train(8).first, first.first);
  }
}

TEST(ImplicitAls, ResumingFromAnyStepIsExact) {
  const data::Interactions rows = random_rows(80, 50, 600, 13);
  for (const char* keys : {"factors: 8, cg_steps: 2", "factors: 8, solver: exact"}) {
    SCOPED_TRACE(keys);
    AlsRun straight(keys, rows);
    straight.epochs(0, 3);

    AlsRun first(keys, rows);  // epochs 0-1, then a fresh model continues with epoch 2
    first.epochs(0, 2);
    AlsRun second(keys, rows, /*seed=*/99);
    second.model->load_state(first.model->state());
    second.epochs(2, 3);
    EXPECT_EQ(second.factors("user_factors").to_vector<float>(), straight.factors("user_factors").to_vector<float>());
    EXPECT_EQ(second.factors("item_factors").to_vector<float>(), straight.factors("item_factors").to_vector<float>());
    EXPECT_EQ(second.reports.back().loss, straight.reports.back().loss);

    AlsRun stopped(keys, rows);  // stopped after the user half-step of epoch 1
    stopped.epochs(0, 1);
    stopped.model->train_steps(1, 0, [](const train::StepReport&) { return false; });
    AlsRun resumed(keys, rows, 99);
    resumed.model->load_state(stopped.model->state());
    resumed.model->train_steps(1, 1, [&](const train::StepReport& r) { resumed.reports.push_back(r); return true; });
    ASSERT_EQ(resumed.reports.size(), 1u);
    EXPECT_EQ(resumed.reports[0].step, 1);
    EXPECT_EQ(resumed.reports[0].examples, 50);
    EXPECT_EQ(resumed.reports[0].loss, straight.reports[3].loss);
    resumed.epochs(2, 3);
    EXPECT_EQ(resumed.factors("item_factors").to_vector<float>(), straight.factors("item_factors").to_vector<float>());
  }
}

TEST(ImplicitAls, WeightsRoundTripForServing) {
  const data::Interactions rows = random_rows(20, 15, 100, 17);
  AlsRun run("factors: 4, alpha: 3, confidence: log", rows);
  run.epochs(0, 2);
  const auto weights = run.model->weights();
  EXPECT_EQ(weights.size(), 2u);
  for (const auto& [name, t] : weights) {
    ASSERT_TRUE(run.model->state().count(name)) << name;
    EXPECT_EQ(run.model->state().at(name).to_vector<float>(), t.to_vector<float>()) << name;
  }
  auto served = create_implicit_als();
  served->load_weights(weights, Device::cpu());
  const Tensor users = Tensor::from_vector<int64_t>({3, 0, 19});
  Tensor scores = served->score_users(users);
  EXPECT_EQ(scores.shape(), (Shape{3, 15}));
  EXPECT_EQ(scores.to_vector<float>(), run.model->score_users(users).to_vector<float>());
  EXPECT_EQ(served->dimensions(), (std::map<std::string, int64_t>{{"users", 20}, {"items", 15}, {"factors", 4}}));
  EXPECT_EQ(run.model->hyperparameters_json(),
            R"({"factors":4,"reg":0.1,"alpha":3.0,"confidence":"log","init_std":0.01,"solver":"cg","epsilon":1.0,"cg_steps":3})");
  // Scores are fresh tensors (the evaluator masks them in place) and weights are copies.
  scores.fill_(0);
  run.model->weights().at("user_factors").fill_(0);
  EXPECT_EQ(served->score_users(users).to_vector<float>(), run.model->score_users(users).to_vector<float>());

  auto missing = weights;
  missing.erase("item_factors");
  auto bad = create_implicit_als();
  EXPECT_THROW(bad->load_weights(missing, Device::cpu()), ArtifactError);
  EXPECT_MESSAGE_HAS(error_message([&] { bad->load_weights(missing, Device::cpu()); }), "'item_factors'");
  auto narrow = weights;
  narrow["item_factors"] = Tensor::zeros({15, 3});
  EXPECT_MESSAGE_HAS(error_message([&] { bad->load_weights(narrow, Device::cpu()); }), "factor counts differ");
  EXPECT_MESSAGE_HAS(error_message([&] { run.model->load_state(narrow); }), "'item_factors' is [15, 3]");
  EXPECT_MESSAGE_HAS(error_message([&] { run.model->load_state(missing); }), "no tensor 'item_factors'");
}

TEST(ImplicitAls, BadKeysAndDataAreNamed) {
  auto configure = [](const std::string& keys) { create_implicit_als()->configure(recipe_of(keys)); };
  EXPECT_MESSAGE_HAS(error_message([&] { configure("solver: lu"); }), "model.solver");
  EXPECT_MESSAGE_HAS(error_message([&] { configure("cg_steps: 0"); }), "model.cg_steps");
  EXPECT_MESSAGE_HAS(error_message([&] { configure("alpha: -1"); }), "model.alpha");
  EXPECT_MESSAGE_HAS(error_message([&] { configure("confidence: sqrt"); }), "model.confidence");
  EXPECT_MESSAGE_HAS(error_message([&] { configure("factor: 8"); }), "model.factors");  // near miss
  EXPECT_MESSAGE_HAS(error_message([&] { configure("epsilon: 2"); }), "model.epsilon is only used with");
  EXPECT_MESSAGE_HAS(error_message([&] { configure("confidence: log, epsilon: 0"); }), "model.epsilon must be positive");
  EXPECT_MESSAGE_HAS(error_message([&] { configure("solver: exact, cg_steps: 5"); }), "model.cg_steps is only used");
  EXPECT_EQ(error_message([&] { configure("confidence: log, epsilon: 2, solver: exact"); }), "(no error)");

  auto comm = dist::make_local_communicator();
  auto model = create_implicit_als();
  model->configure(recipe_of("factors: 4"));
  const auto negative = data::Interactions::from_vectors({0, 1}, {1, 0}, 2, 2, {1, -2});
  EXPECT_THROW(model->setup(training_data(negative), {.comm = comm.get()}), DataError);
  EXPECT_MESSAGE_HAS(error_message([&] { model->setup(training_data(negative), {.comm = comm.get()}); }),
                     "training row 1 (user 1, item 0) has value -2");
  EXPECT_MESSAGE_HAS(error_message([&] { model->train_steps(0, 0, {}); }), "before setup");
  model->configure(recipe_of("factors: 4, solver: exact"));
  EXPECT_MESSAGE_HAS(error_message([&] {
                       model->setup(training_data(random_rows(4, 4, 8, 1)), {.device = Device::cuda(0), .comm = comm.get()});
                     }),
                     "test.yaml:2: model.solver: exact runs on the CPU only");
}

// The CUDA path's tensor-op solver, run on CPU tensors, against the CPU kernel.
TEST(ImplicitAls, BatchedOpSolverMatchesTheCpuKernel) {
  const data::Interactions rows = random_rows(60, 40, 500, 21);
  const als::Confidence confidence{als::Confidence::Kind::linear, 5.0, 1.0};
  const als::ConfidenceMatrix m = als::build_confidence(rows, confidence);
  Generator gen(4);
  const int64_t f = 12;
  const Tensor items = ops::normal({40, f}, gen, 0.0, 0.3);
  const Tensor start = ops::normal({60, f}, gen, 0.0, 0.3);
  std::vector<float> eye(static_cast<size_t>(f * f), 0.0f);
  for (int64_t k = 0; k < f; ++k) eye[static_cast<size_t>(k * f + k)] = 0.1f;
  const Tensor gram = ops::add(ops::matmul(items, items, true, false), Tensor::from_vector(eye, {f, f}));

  for (int64_t steps : {1, 3, 30}) {
    SCOPED_TRACE(steps);
    Tensor by_kernel = start.clone(), by_ops = start.clone();
    const als::HalfStep h{&m.by_user, items.data<float>(), gram.data<float>(), f};
    const double kernel_loss = als::cg_half_step(h, by_kernel.data<float>(), steps);
    const double ops_loss = als::batched_cg_half_step(als::to_device(m.by_user, Device::cpu()), items, gram, by_ops, steps);
    EXPECT_TRUE(testing::all_close(by_ops, by_kernel, 1e-3, 1e-5));
    EXPECT_NEAR(ops_loss, kernel_loss, 1e-4 * std::abs(kernel_loss));
  }
}

TEST(ImplicitAls, CudaMatchesCpu) {
  AISLE_SKIP_WITHOUT_CUDA();
  const data::Interactions rows = random_rows(200, 90, 2000, testing::fresh_seed());
  AlsRun cpu("factors: 16, alpha: 5, cg_steps: 3", rows);
  AlsRun gpu("factors: 16, alpha: 5, cg_steps: 3", rows, 7, testing::gpu());
  cpu.epochs(0, 3);
  gpu.epochs(0, 3);
  EXPECT_EQ(gpu.model->device(), testing::gpu());
  EXPECT_LT(testing::relative_error(gpu.factors("user_factors"), cpu.factors("user_factors")), 1e-3);
  EXPECT_LT(testing::relative_error(gpu.factors("item_factors"), cpu.factors("item_factors")), 1e-3);
  ASSERT_EQ(gpu.reports.size(), cpu.reports.size());
  for (size_t k = 0; k < cpu.reports.size(); ++k) EXPECT_NEAR(gpu.reports[k].loss, cpu.reports[k].loss, 1e-4 * cpu.reports[k].loss);
  const Tensor users = Tensor::from_vector<int64_t>({0, 5, 199}, testing::gpu());
  EXPECT_LT(testing::relative_error(gpu.model->score_users(users), cpu.model->score_users(users.to(Device::cpu()))), 1e-3);
}

}  // namespace
}  // namespace aisle::models
