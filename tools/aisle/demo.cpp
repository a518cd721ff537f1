// `aisle demo RECIPE`: trains BPR matrix factorisation (Rendle et al. 2009) on synthetic shop data
// with the core library end to end: sparse embedding tables, SparseAdam, the fused BPR loss, and
// full-ranking evaluation (matmul + masked top-k) against a popularity baseline. It exits 0 only
// if the model beats popularity, so a broken core fails loudly. Replaced by `aisle train` and the
// quickstart recipe once the trainer lands.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include "aisle/aisle.hpp"
#include "demo_recipe.hpp"

namespace aisle::demo {
namespace {

struct Interactions {
  std::vector<std::vector<int64_t>> train;  // per user, distinct items
  std::vector<int64_t> test;                // per user: the held-out last item
  std::vector<int64_t> item_counts;         // training popularity
};

// Users belong to taste segments; items to segments with Zipf-like popularity inside each.
Interactions synthesize(const DemoRecipe& r, Generator& gen) {
  const int64_t users = r.users, items = r.items;
  std::vector<double> weight(static_cast<size_t>(items));
  for (int64_t i = 0; i < items; ++i) weight[static_cast<size_t>(i)] = 1.0 / std::pow(1.0 + static_cast<double>(i / r.segments), 0.9);
  auto draw = [&](int64_t segment) {  // an item of `segment` (or of any segment if < 0), by popularity
    for (;;) {
      const int64_t i = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(items)));
      if (segment >= 0 && i % r.segments != segment) continue;
      if (gen.next_double() < weight[static_cast<size_t>(i)]) return i;
    }
  };
  Interactions data;
  data.train.resize(static_cast<size_t>(users));
  data.test.resize(static_cast<size_t>(users));
  data.item_counts.assign(static_cast<size_t>(items), 0);
  for (int64_t u = 0; u < users; ++u) {
    const int64_t segment = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(r.segments)));
    const int64_t n = r.min_per_user + static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(r.max_per_user - r.min_per_user + 1)));
    std::vector<int64_t> seq;
    std::set<int64_t> seen;
    while (static_cast<int64_t>(seq.size()) < n) {
      const int64_t i = draw(gen.next_double() < r.taste_strength ? segment : -1);
      if (seen.insert(i).second) seq.push_back(i);
    }
    data.test[static_cast<size_t>(u)] = seq.back();
    seq.pop_back();
    std::sort(seq.begin(), seq.end());
    for (int64_t i : seq) ++data.item_counts[static_cast<size_t>(i)];
    data.train[static_cast<size_t>(u)] = std::move(seq);
  }
  return data;
}

struct Metrics {
  double hr = 0, ndcg = 0;
};

// HR@K and NDCG@K of the held-out item, ranking all items except the user's training items.
Metrics evaluate(const Tensor& scores_all, const Interactions& data, int64_t k) {
  const int64_t users = scores_all.size(0), items = scores_all.size(1);
  std::vector<uint8_t> seen(static_cast<size_t>(users * items), 0);
  for (int64_t u = 0; u < users; ++u)
    for (int64_t i : data.train[static_cast<size_t>(u)]) seen[static_cast<size_t>(u * items + i)] = 1;
  const Tensor mask = Tensor::from_vector(seen, {users, items}, scores_all.device());
  const ops::TopK top = ops::topk(ops::masked_fill(scores_all, mask, -INFINITY), k);
  const std::vector<int64_t> ranked = top.indices.to_vector<int64_t>();
  Metrics m;
  for (int64_t u = 0; u < users; ++u)
    for (int64_t r = 0; r < k; ++r)
      if (ranked[static_cast<size_t>(u * k + r)] == data.test[static_cast<size_t>(u)]) {
        m.hr += 1;
        m.ndcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
      }
  m.hr /= static_cast<double>(users);
  m.ndcg /= static_cast<double>(users);
  return m;
}

Device pick_device(const std::string& name) {
  if (name == "auto") return cuda::is_available() ? Device::cuda(0) : Device::cpu();
  return Device::parse(name);
}

}  // namespace

int run(const DemoRecipe& r) {
  const Device device = pick_device(r.device);
  Generator gen(r.seed);
  std::printf("aisle demo '%s': %lld users, %lld items, device %s\n", r.name.c_str(),
              static_cast<long long>(r.users), static_cast<long long>(r.items), device.str().c_str());
  const Interactions data = synthesize(r, gen);

  // Training triples (u, i) flattened; negatives drawn per epoch, rejecting the user's items.
  std::vector<int64_t> pair_user, pair_item;
  for (int64_t u = 0; u < r.users; ++u)
    for (int64_t i : data.train[static_cast<size_t>(u)]) {
      pair_user.push_back(u);
      pair_item.push_back(i);
    }
  const int64_t n_pairs = static_cast<int64_t>(pair_user.size());
  std::printf("  %lld training interactions, 1 held out per user\n", static_cast<long long>(n_pairs));

  // Popularity baseline: the same ranking protocol with scores = training counts.
  std::vector<float> pop(static_cast<size_t>(r.users * r.items));
  for (int64_t u = 0; u < r.users; ++u)
    for (int64_t i = 0; i < r.items; ++i)
      pop[static_cast<size_t>(u * r.items + i)] = static_cast<float>(data.item_counts[static_cast<size_t>(i)]);
  const Metrics baseline = evaluate(Tensor::from_vector(pop, {r.users, r.items}), data, r.k);
  std::printf("  popularity baseline: HR@%lld %.4f  NDCG@%lld %.4f\n", static_cast<long long>(r.k),
              baseline.hr, static_cast<long long>(r.k), baseline.ndcg);

  nn::Embedding users(r.users, r.dim, gen, /*sparse=*/true, r.init_std);
  nn::Embedding items(r.items, r.dim, gen, /*sparse=*/true, r.init_std);
  users.to(device);
  items.to(device);
  optim::SparseAdam opt({users.table(), items.table()}, {.lr = r.lr});

  Metrics m;
  for (int64_t epoch = 1; epoch <= r.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<int64_t> order(static_cast<size_t>(n_pairs));
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = n_pairs - 1; i > 0; --i)
      std::swap(order[static_cast<size_t>(i)], order[gen.next_below(static_cast<uint64_t>(i + 1))]);
    double loss_sum = 0;
    int64_t batches = 0;
    for (int64_t start = 0; start < n_pairs; start += r.batch_size) {
      const int64_t b = std::min(r.batch_size, n_pairs - start);
      std::vector<int64_t> u(static_cast<size_t>(b)), pos(static_cast<size_t>(b)), neg(static_cast<size_t>(b));
      for (int64_t j = 0; j < b; ++j) {
        const int64_t p = order[static_cast<size_t>(start + j)];
        u[static_cast<size_t>(j)] = pair_user[static_cast<size_t>(p)];
        pos[static_cast<size_t>(j)] = pair_item[static_cast<size_t>(p)];
        const auto& mine = data.train[static_cast<size_t>(u[static_cast<size_t>(j)])];
        int64_t n;
        do n = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(r.items)));
        while (std::binary_search(mine.begin(), mine.end(), n));
        neg[static_cast<size_t>(j)] = n;
      }
      const Var eu = users.forward(Tensor::from_vector(u, device));
      const Var pos_score = sum(eu * items.forward(Tensor::from_vector(pos, device)), -1);
      const Var neg_score = sum(eu * items.forward(Tensor::from_vector(neg, device)), -1);
      Var loss = bpr_loss(pos_score, neg_score);
      loss.backward();
      opt.step();
      opt.zero_grad();
      loss_sum += loss.value().item<float>();
      ++batches;
    }
    Tensor scores;
    {
      NoGradGuard no_grad;
      scores = ops::matmul(users.table().value(), items.table().value(), false, true);
    }
    m = evaluate(scores, data, r.k);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  epoch %2lld  loss %.4f  HR@%lld %.4f  NDCG@%lld %.4f  %.2fs (%.0f interactions/s)\n",
                static_cast<long long>(epoch), loss_sum / static_cast<double>(batches),
                static_cast<long long>(r.k), m.hr, static_cast<long long>(r.k), m.ndcg, secs,
                static_cast<double>(n_pairs) / secs);
  }
  const bool better = m.ndcg > baseline.ndcg;
  std::printf("BPR-MF NDCG@%lld %.4f vs popularity %.4f: %s\n", static_cast<long long>(r.k), m.ndcg,
              baseline.ndcg, better ? "the model beats the baseline" : "the model did NOT beat the baseline");
  return better ? 0 : 1;
}

}  // namespace aisle::demo
