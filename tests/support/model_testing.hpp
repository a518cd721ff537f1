#pragma once
// Shared by the model tests: a recipe for one model without a data section to read, the
// trainer's epoch loop in its simplest form, and a small implicit dataset with planted tastes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aisle/data/interactions.hpp"
#include "aisle/data/split.hpp"
#include "aisle/recipe/recipe.hpp"
#include "aisle/tensor/random.hpp"
#include "aisle/train/model.hpp"
#include "aisle/train/recipe_schema.hpp"
#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle::testing {

// `model_yaml` is the model section as a flow mapping, e.g. "{type: item_knn, neighbors: 3}".
inline recipe::Recipe model_recipe(const std::string& model_yaml, const std::vector<std::string>& overrides = {}) {
  return recipe::Recipe::load_text("data: {path: unused}\nmodel: " + model_yaml + "\n", "test.yaml", overrides,
                                   train::training_schema());
}

// Runs epochs [from, to) from their first step; returns each epoch's example-weighted mean loss.
inline std::vector<double> epoch_losses(train::Model& m, int64_t from, int64_t to) {
  std::vector<double> losses;
  for (int64_t e = from; e < to; ++e) {
    double sum = 0;
    int64_t n = 0;
    m.train_steps(e, 0, [&](const train::StepReport& s) {
      sum += s.loss * static_cast<double>(s.examples);
      n += s.examples;
      return true;
    });
    losses.push_back(sum / static_cast<double>(n));
  }
  return losses;
}

// Two named-tensor maps (weights or checkpoint states) hold the same names, shapes, dtypes and
// bytes: what "resumes bit for bit" means.
inline void expect_same_bits(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const Tensor& u = b.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    ASSERT_EQ(t.dtype(), u.dtype()) << name;
    const Tensor x = t.to(Device::cpu()), y = u.to(Device::cpu());
    EXPECT_EQ(0, std::memcmp(x.raw_data(), y.raw_data(), x.nbytes())) << name << " differs";
  }
}

// A deep copy of a model's state() (its tensors alias the live parameters).
inline std::map<std::string, Tensor> snapshot(const std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> copy;
  for (const auto& [name, t] : state) copy.emplace(name, t.clone());
  return copy;
}

// Two epochs of a fresh model from `make` with 1 thread, with 3 threads and once more: the three
// final states are bit-identical (CPU kernels do not depend on the thread count or the run).
inline void expect_deterministic_over_threads(const std::function<std::unique_ptr<train::Model>()>& make) {
  std::map<std::string, Tensor> one, many;
  auto run = [&](std::map<std::string, Tensor>& out) {
    auto m = make();
    epoch_losses(*m, 0, 2);
    out = snapshot(m->state());
  };
  ASSERT_TRUE(with_omp_threads(1, [&] { run(one); }));
  ASSERT_TRUE(with_omp_threads(3, [&] { run(many); }));
  expect_same_bits(one, many);
  std::map<std::string, Tensor> again;
  run(again);
  expect_same_bits(one, again);
}

// What `aisle train --resume` promises, for fresh models from `make`: three epochs straight equal
// (bit for bit) two epochs, state() restored into a fresh model, one more epoch; and equal a run
// stopped after step 4 of epoch 1 (on_step returning false) and continued from step 5. Returns
// the straight and the mid-epoch-resumed models for further checks.
inline std::pair<std::unique_ptr<train::Model>, std::unique_ptr<train::Model>> expect_exact_resume(
    const std::function<std::unique_ptr<train::Model>()>& make) {
  auto straight = make();
  epoch_losses(*straight, 0, 3);

  auto first = make();
  epoch_losses(*first, 0, 2);
  auto resumed = make();
  resumed->load_state(snapshot(first->state()));
  expect_same_bits(first->state(), resumed->state());  // derived tables (caches) follow the parameters
  epoch_losses(*resumed, 2, 3);
  expect_same_bits(straight->state(), resumed->state());

  auto interrupted = make();
  epoch_losses(*interrupted, 0, 1);
  interrupted->train_steps(1, 0, [](const train::StepReport& s) { return s.step < 4; });
  auto continued = make();
  continued->load_state(snapshot(interrupted->state()));
  continued->train_steps(1, 5, [](const train::StepReport&) { return true; });
  epoch_losses(*continued, 2, 3);
  expect_same_bits(straight->state(), continued->state());
  return {std::move(straight), std::move(continued)};
}

// The same model (recipe and seed) on the CPU and on CUDA, trained side by side for `epochs`:
// every step's loss agrees to `loss_rtol`, then every state tensor and the scores of users 1-3
// agree to all_close(rtol, atol). Call AISLE_SKIP_WITHOUT_CUDA() first.
inline void expect_cuda_training_matches_cpu(train::Model& cpu, train::Model& gpu, int64_t epochs,
                                             double loss_rtol = 1e-4, double rtol = 1e-3, double atol = 1e-4) {
  std::vector<double> cpu_losses, gpu_losses;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    cpu.train_steps(epoch, 0, [&](const train::StepReport& s) {
      cpu_losses.push_back(s.loss);
      return true;
    });
    gpu.train_steps(epoch, 0, [&](const train::StepReport& s) {
      gpu_losses.push_back(s.loss);
      return true;
    });
  }
  ASSERT_EQ(cpu_losses.size(), gpu_losses.size());
  for (size_t s = 0; s < cpu_losses.size(); ++s)
    EXPECT_NEAR(gpu_losses[s], cpu_losses[s], loss_rtol * std::abs(cpu_losses[s])) << "step " << s;
  for (const auto& [name, t] : cpu.state()) EXPECT_TRUE(all_close(gpu.state().at(name), t, rtol, atol)) << name;
  const Tensor users = Tensor::from_vector(std::vector<int64_t>{1, 2, 3});
  EXPECT_TRUE(all_close(gpu.score_users(users.to(gpu.device())), cpu.score_users(users), rtol, atol));
}

// Users and items fall into `groups` tastes; a user takes 85% of their 12-24 items from their own
// group and the rest from the whole catalogue, both skewed towards low item ids (popular items).
// Split 80/20 per user. A ranking model that learns the tastes beats popularity clearly.
inline data::Split planted_taste_split(uint64_t seed, int64_t num_users = 400, int64_t num_items = 240,
                                       int64_t groups = 8) {
  Generator gen(seed);
  std::vector<int64_t> users, items;
  const int64_t per_group = num_items / groups;
  auto skewed = [&gen](int64_t n) {  // an index in [0, n), smaller ones likelier
    const double x = gen.next_double();
    return std::min<int64_t>(n - 1, static_cast<int64_t>(static_cast<double>(n) * x * x));
  };
  for (int64_t u = 0; u < num_users; ++u) {
    const int64_t group = u % groups;
    const int64_t n = 12 + static_cast<int64_t>(gen.next_below(13));
    std::set<int64_t> mine;
    while (static_cast<int64_t>(mine.size()) < n) {
      const int64_t item = gen.next_double() < 0.85 ? skewed(per_group) * groups + group : skewed(num_items);
      mine.insert(item);
    }
    for (int64_t i : mine) {
      users.push_back(u);
      items.push_back(i);
    }
  }
  const data::Interactions all = data::Interactions::from_vectors(users, items, num_users, num_items);
  return data::random_split(all, data::Ratios{0.8, 0.0, 0.2}, /*per_user=*/true, seed + 1);
}

}  // namespace aisle::testing
