#include "aisle/data/neighbor_sampler.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>

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

// ---- CUDA: the same samples, made on the device ------------------------------------------

ops::Csr on_device(const ops::Csr& g, Device d) {
  return ops::Csr{g.row_ptr.to(d), g.col_idx.to(d), g.values.to(d), g.rows, g.cols};
}

// Bit-identical: same seeds, src_nodes order, CSR and values; every tensor of `dev` on the GPU.
void expect_same_sample(const NeighborSample& cpu, const NeighborSample& dev) {
  EXPECT_TRUE(dev.seeds.is_cuda());
  EXPECT_EQ(cpu.seeds.to_vector<int64_t>(), dev.seeds.to_vector<int64_t>());
  ASSERT_EQ(cpu.blocks.size(), dev.blocks.size());
  for (size_t h = 0; h < cpu.blocks.size(); ++h) {
    SCOPED_TRACE("hop " + std::to_string(h + 1));
    const SampledBlock &a = cpu.blocks[h], &b = dev.blocks[h];
    EXPECT_TRUE(b.src_nodes.is_cuda() && b.adjacency.row_ptr.is_cuda() && b.adjacency.col_idx.is_cuda() &&
                b.adjacency.values.is_cuda());
    EXPECT_EQ(a.num_dst, b.num_dst);
    EXPECT_EQ(a.adjacency.rows, b.adjacency.rows);
    EXPECT_EQ(a.adjacency.cols, b.adjacency.cols);
    EXPECT_EQ(a.src_nodes.to_vector<int64_t>(), b.src_nodes.to_vector<int64_t>());
    EXPECT_EQ(a.adjacency.row_ptr.to_vector<int64_t>(), b.adjacency.row_ptr.to_vector<int64_t>());
    EXPECT_EQ(a.adjacency.col_idx.dtype(), b.adjacency.col_idx.dtype());
    EXPECT_EQ(a.adjacency.col_idx.to_vector<int64_t>(), b.adjacency.col_idx.to_vector<int64_t>());
    EXPECT_EQ(a.adjacency.values.to_vector<float>(), b.adjacency.values.to_vector<float>());
  }
}

TEST(NeighborSamplerCuda, MatchesCpuBitForBit) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  const uint64_t fresh = testing::fresh_seed();
  Generator gen(fresh);
  // g: rows longer than a warp (users ~100 items, the first items hundreds of users), so fan-outs
  // above 32 spread the draw over all lanes; sparse: short rows and isolated users and items.
  for (const DType index : {DType::i32, DType::i64}) {
    const BipartiteGraph g = random_graph(300, 100, 16000, fresh, index);
    const BipartiteGraph sparse = random_graph(400, 300, 1500, fresh + 1, index);
    for (const BipartiteGraph* graph : {&g, &sparse}) {
      const ops::Csr dev_graph = on_device(graph->adjacency, gpu);
      for (const std::vector<int64_t>& fanouts : std::vector<std::vector<int64_t>>{
               {5, 3}, {10}, {-1, 2}, {1, 1, 1}, {0, 4}, {40, 3}, {100}, {2, -1}, {65536}, {3, 3, 3, 3}}) {
        SCOPED_TRACE(::testing::Message() << "fresh seed " << fresh << ", " << dtype_name(index) << ", "
                                          << graph->num_nodes() << " nodes, fan-outs " << fanouts.size() << " hops, first "
                                          << fanouts[0]);
        NeighborSampler cpu(graph->adjacency, fanouts), dev(dev_graph, fanouts);
        EXPECT_TRUE(dev.device().is_cuda());
        // Random distinct seeds in random order, isolated nodes among them.
        std::vector<int64_t> ids;
        for (int64_t v = 0; v < graph->num_nodes(); ++v)
          if (gen.next_below(4) == 0) ids.push_back(v);
        for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[gen.next_below(i)]);
        const Tensor seeds = Tensor::from_vector(ids);
        const uint64_t stream = gen.next_u32();
        const NeighborSample reference = cpu.sample(seeds, fresh, stream);
        const NeighborSample on_gpu = dev.sample(seeds, fresh, stream);
        expect_same_sample(reference, on_gpu);
        expect_valid(on_gpu, graph->adjacency, fanouts);
        // Seeds already on the device; and again, which also checks the scratch map was restored.
        expect_same_sample(reference, dev.sample(seeds.to(gpu), fresh, stream));
        expect_same_sample(cpu.sample(seeds, fresh, stream + 1), dev.sample(seeds, fresh, stream + 1));
      }
    }
  }
}

TEST(NeighborSamplerCuda, SmallAndEmptyBatches) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  const BipartiteGraph g = bipartite_graph(Interactions::from_vectors({0, 0, 0, 1}, {2, 0, 1, 1}, 3, 4));
  NeighborSampler cpu(g.adjacency, {3, 1}), dev(on_device(g.adjacency, gpu), {3, 1});
  // Node 2 is a user with no rows, node 6 an item with none.
  for (const std::vector<int64_t>& ids : std::vector<std::vector<int64_t>>{{}, {2}, {6, 2}, {0}, {4, 1, 6}}) {
    const Tensor seeds = Tensor::from_vector(ids);
    expect_same_sample(cpu.sample(seeds, 7, 1), dev.sample(seeds, 7, 1));
  }
  // The Generator overload takes one stream on the device too.
  Generator a(5), b(5);
  const Tensor seeds = Tensor::from_vector<int64_t>({0, 1, 3});
  expect_same_sample(cpu.sample(seeds, a), dev.sample(seeds, b));
  EXPECT_EQ(b.next_stream(), 1u);
}

TEST(NeighborSamplerCuda, RejectsBadSeedsAndLeavesTheSamplerClean) {
  AISLE_SKIP_WITHOUT_CUDA();
  const Device gpu = testing::gpu();
  const BipartiteGraph g = bipartite_graph(Interactions::from_vectors({0, 1}, {0, 1}, 2, 2));
  NeighborSampler cpu(g.adjacency, {1}), dev(on_device(g.adjacency, gpu), {1});
  for (const Device seeds_on : {Device::cpu(), gpu}) {
    auto seeds = [&](std::vector<int64_t> ids) { return Tensor::from_vector(ids).to(seeds_on); };
    // The first bad position, as the CPU's in-order check finds it.
    EXPECT_MESSAGE_HAS(testing::error_message([&] { dev.sample(seeds({1, 4}), 0, 0); }),
                       "NeighborSampler::sample: seed 4 at position 1 is outside [0, 4)");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { dev.sample(seeds({-3, 1}), 0, 0); }),
                       "seed -3 at position 0 is outside [0, 4)");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { dev.sample(seeds({2, 1, 2, 9}), 0, 0); }), "seed 2 appears twice");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { dev.sample(seeds({3, 3, 9}), 0, 0); }), "seed 3 appears twice");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { dev.sample(seeds({0, 9, 0}), 0, 0); }),
                       "seed 9 at position 1 is outside [0, 4)");
    EXPECT_MESSAGE_HAS(testing::error_message([&] { dev.sample(Tensor::from_vector<int32_t>({0}).to(seeds_on), 0, 0); }),
                       "seeds must be a 1-D i64 tensor");
    // Failed calls leave the device map clean.
    const Tensor all = Tensor::from_vector<int64_t>({0, 1, 2, 3});
    expect_same_sample(cpu.sample(all, 0, 0), dev.sample(all.to(seeds_on), 0, 0));
  }
  ops::Csr mixed = on_device(g.adjacency, gpu);
  mixed.col_idx = g.adjacency.col_idx;
  EXPECT_MESSAGE_HAS(testing::error_message([&] { NeighborSampler(mixed, {1}); }), "are on different devices");
  // A CPU graph still takes CPU seeds only.
  EXPECT_MESSAGE_HAS(testing::error_message([&] { cpu.sample(Tensor::from_vector<int64_t>({0}).to(gpu), 0, 0); }),
                     "seeds must be a 1-D i64 CPU tensor");
}

}  // namespace
}  // namespace aisle::data
