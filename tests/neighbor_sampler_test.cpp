#include "aisle/data/neighbor_sampler.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "aisle/data/graph.hpp"
#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

BipartiteGraph random_graph(int64_t U, int64_t I, int64_t rows, uint64_t seed, DType index_dtype = DType::i64) {
  Generator gen(seed);
  std::vector<int64_t> users, items;
  for (int64_t k = 0; k < rows; ++k) {
    users.push_back(static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(U))));
    // Skewed items so some have large degrees.
    const uint64_t a = gen.next_below(static_cast<uint64_t>(I)), b = gen.next_below(static_cast<uint64_t>(I));
    items.push_back(static_cast<int64_t>(std::min(a, b)));
  }
  return bipartite_graph(Interactions::from_vectors(users, items, U, I), {.index_dtype = index_dtype});
}

// The graph's rows on the host, read independently of the sampler.
struct HostGraph {
  std::vector<int64_t> rp;
  std::vector<double> col;
  explicit HostGraph(const ops::Csr& g) : rp(g.row_ptr.to_vector<int64_t>()), col(g.col_idx.to_doubles()) {}
  std::set<int64_t> neighbours(int64_t v) const {
    std::set<int64_t> out;
    for (int64_t k = rp[static_cast<size_t>(v)]; k < rp[static_cast<size_t>(v) + 1]; ++k)
      out.insert(static_cast<int64_t>(col[static_cast<size_t>(k)]));
    return out;
  }
};

// Checks every structural promise of a sample against the graph.
void expect_valid(const NeighborSample& s, const ops::Csr& graph, const std::vector<int64_t>& fanouts) {
  ASSERT_EQ(s.blocks.size(), fanouts.size());
  const HostGraph host(graph);
  std::vector<int64_t> dst = s.seeds.to_vector<int64_t>();
  for (size_t h = 0; h < s.blocks.size(); ++h) {
    const SampledBlock& b = s.blocks[h];
    const std::vector<int64_t> src = b.src_nodes.to_vector<int64_t>();
    ASSERT_EQ(b.num_dst, static_cast<int64_t>(dst.size()));
    ASSERT_GE(src.size(), dst.size());
    EXPECT_TRUE(std::equal(dst.begin(), dst.end(), src.begin())) << "dst nodes come first, in order";
    EXPECT_EQ(std::set<int64_t>(src.begin(), src.end()).size(), src.size()) << "src nodes are unique";
    EXPECT_EQ(b.adjacency.rows, b.num_dst);
    EXPECT_EQ(b.adjacency.cols, static_cast<int64_t>(src.size()));
    const std::vector<int64_t> rp = b.adjacency.row_ptr.to_vector<int64_t>(), col = b.adjacency.col_idx.to_vector<int64_t>();
    const std::vector<float> val = b.adjacency.values.to_vector<float>();
    std::set<int64_t> used;
    for (int64_t d = 0; d < b.num_dst; ++d) {
      const std::set<int64_t> truth = host.neighbours(dst[static_cast<size_t>(d)]);
      const int64_t count = rp[static_cast<size_t>(d) + 1] - rp[static_cast<size_t>(d)];
      const int64_t f = fanouts[h], degree = static_cast<int64_t>(truth.size());
      EXPECT_EQ(count, f < 0 ? degree : std::min(degree, f)) << "hop " << h + 1 << " node " << dst[static_cast<size_t>(d)];
      std::set<int64_t> row;
      for (int64_t k = rp[static_cast<size_t>(d)]; k < rp[static_cast<size_t>(d) + 1]; ++k) {
        const int64_t global = src[static_cast<size_t>(col[static_cast<size_t>(k)])];
        EXPECT_TRUE(truth.count(global)) << global << " is not a neighbour of " << dst[static_cast<size_t>(d)];
        EXPECT_TRUE(row.insert(global).second) << "neighbour " << global << " sampled twice";
        EXPECT_FLOAT_EQ(val[static_cast<size_t>(k)], 1.0f / static_cast<float>(count));
        used.insert(col[static_cast<size_t>(k)]);
      }
    }
    // Every src node past the dst nodes was reached by some edge.
    for (size_t q = dst.size(); q < src.size(); ++q) EXPECT_TRUE(used.count(static_cast<int64_t>(q)));
    dst = src;
  }
}

TEST(NeighborSampler, RespectsFanOutBoundsWithTrueDistinctNeighbours) {
  const BipartiteGraph g = random_graph(200, 150, 3000, 1);
  for (const std::vector<int64_t>& fanouts :
       std::vector<std::vector<int64_t>>{{5, 3}, {10}, {-1, 2}, {1, 1, 1}, {0, 4}}) {
    NeighborSampler sampler(g.adjacency, fanouts);
    const Tensor seeds = Tensor::from_vector<int64_t>({0, 7, 199, 200, 201, 349, 13, 260});
    const NeighborSample s = sampler.sample(seeds, 5, 9);
    expect_valid(s, g.adjacency, fanouts);
    EXPECT_EQ(s.input_nodes().numel(), s.blocks.back().src_nodes.numel());
  }
}

TEST(NeighborSampler, SmallDegreesKeepEveryNeighbourInGraphOrder) {
  const BipartiteGraph g = bipartite_graph(Interactions::from_vectors({0, 0, 0, 1}, {2, 0, 1, 1}, 2, 3));
  NeighborSampler sampler(g.adjacency, {3});
  const NeighborSample s = sampler.sample(Tensor::from_vector<int64_t>({0, 1}), 1, 1);
  // Node 0's neighbours are items 0, 1, 2 (nodes 2, 3, 4); node 1's is node 3.
  EXPECT_EQ(s.blocks[0].src_nodes.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(s.blocks[0].adjacency.col_idx.to_vector<int64_t>(), (std::vector<int64_t>{2, 3, 4, 3}));
  // The block's values make spmm the neighbour mean.
  const Tensor h = Tensor::from_vector<float>({1, 2, 3, 5, 7}, {5, 1});
  EXPECT_TRUE(testing::all_close(ops::spmm(s.blocks[0].adjacency, h), Tensor::from_vector<float>({5, 5}, {2, 1})));
}

TEST(NeighborSampler, DeterministicAcrossRunsThreadsAndSeedSets) {
  const BipartiteGraph g = random_graph(3000, 2000, 60000, 2, DType::i32);
  const std::vector<int64_t> fanouts{10, 5};
  NeighborSampler sampler(g.adjacency, fanouts);
  std::vector<int64_t> seed_ids;
  for (int64_t v = 0; v < 5000; v += 7) seed_ids.push_back(v);
  const Tensor seeds = Tensor::from_vector(seed_ids);
  const NeighborSample reference = sampler.sample(seeds, 11, 4);
  expect_valid(reference, g.adjacency, fanouts);
  auto same = [](const NeighborSample& a, const NeighborSample& b) {
    for (size_t h = 0; h < a.blocks.size(); ++h) {
      if (a.blocks[h].src_nodes.to_vector<int64_t>() != b.blocks[h].src_nodes.to_vector<int64_t>()) return false;
      if (a.blocks[h].adjacency.col_idx.to_vector<int64_t>() != b.blocks[h].adjacency.col_idx.to_vector<int64_t>())
        return false;
    }
    return true;
  };
  for (int threads : {1, 2, 4}) {
    NeighborSample again;
    ASSERT_TRUE(testing::with_omp_threads(threads, [&] { again = sampler.sample(seeds, 11, 4); }));
    EXPECT_TRUE(same(again, reference)) << threads << " threads";
  }
  EXPECT_FALSE(same(sampler.sample(seeds, 11, 5), reference));
  EXPECT_FALSE(same(sampler.sample(seeds, 12, 4), reference));
  // A seed's first-hop neighbours do not depend on the other seeds in the batch.
  const NeighborSample alone = sampler.sample(Tensor::from_vector<int64_t>({seed_ids[3]}), 11, 4);
  const std::vector<int64_t> src = reference.blocks[0].src_nodes.to_vector<int64_t>();
  const std::vector<int64_t> rp = reference.blocks[0].adjacency.row_ptr.to_vector<int64_t>();
  const std::vector<int64_t> col = reference.blocks[0].adjacency.col_idx.to_vector<int64_t>();
  std::vector<int64_t> in_batch;
  for (int64_t k = rp[3]; k < rp[4]; ++k) in_batch.push_back(src[static_cast<size_t>(col[static_cast<size_t>(k)])]);
  const std::vector<int64_t> alone_src = alone.blocks[0].src_nodes.to_vector<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(alone_src.begin() + 1, alone_src.end()), in_batch);
  Generator gen(11);
  (void)sampler.sample(seeds, gen);
  EXPECT_EQ(gen.next_stream(), 1u);
}

TEST(NeighborSampler, EverySubsetOfNeighboursIsEquallyLikely) {
  // User 0 has six items; keeping 2 of them must pick each of the 15 pairs equally often.
  const BipartiteGraph g = bipartite_graph(Interactions::from_vectors({0, 0, 0, 0, 0, 0}, {0, 1, 2, 3, 4, 5}, 1, 6));
  NeighborSampler sampler(g.adjacency, {2});
  std::map<std::vector<int64_t>, int64_t> seen;
  const Tensor seeds = Tensor::from_vector<int64_t>({0});
  for (uint64_t stream = 0; stream < 15000; ++stream) {
    const std::vector<int64_t> src = sampler.sample(seeds, 3, stream).blocks[0].src_nodes.to_vector<int64_t>();
    std::vector<int64_t> pair(src.begin() + 1, src.end());
    std::sort(pair.begin(), pair.end());
    ++seen[pair];
  }
  ASSERT_EQ(seen.size(), 15u);
  double chi = 0;
  for (const auto& [pair, count] : seen) chi += (static_cast<double>(count) - 1000.0) * (static_cast<double>(count) - 1000.0) / 1000.0;
  EXPECT_LT(chi, 40.0);  // 14 degrees of freedom: the 99.99% quantile is about 37.7
}

TEST(NeighborSampler, RejectsBadArguments) {
  const BipartiteGraph g = bipartite_graph(Interactions::from_vectors({0, 1}, {0, 1}, 2, 2));
  EXPECT_MESSAGE_HAS(testing::error_message([&] { NeighborSampler(g.adjacency, {}); }), "give between 1 and 255 fan-outs");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { NeighborSampler(g.adjacency, {3, -2}); }),
                     "fan-out -2 of hop 2 must be in [-1, 65536]");
  const ops::Csr rect = ops::make_csr(Tensor::from_vector<int64_t>({0, 1}), Tensor::from_vector<int64_t>({2}),
                                      Tensor::ones({1}), 1, 3);
  EXPECT_MESSAGE_HAS(testing::error_message([&] { NeighborSampler(rect, {1}); }), "the graph must be square");
  NeighborSampler sampler(g.adjacency, {1});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { sampler.sample(Tensor::from_vector<int64_t>({1, 4}), 0, 0); }),
                     "seed 4 at position 1 is outside [0, 4)");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { sampler.sample(Tensor::from_vector<int64_t>({2, 1, 2}), 0, 0); }),
                     "seed 2 appears twice");
  // Failed calls leave the sampler clean.
  expect_valid(sampler.sample(Tensor::from_vector<int64_t>({0, 1, 2, 3}), 0, 0), g.adjacency, {1});
}

}  // namespace
}  // namespace aisle::data
