#include "aisle/data/graph.hpp"

#include <cmath>
#include <map>
#include <set>

#include "aisle/ops/spmm.hpp"
#include "support/omp_threads.hpp"
#include "support/testing.hpp"

namespace aisle::data {
namespace {

// Users 0, 1, 2 (user 2 isolated); items 0, 1, 2 (item 2 isolated) are nodes 3, 4, 5.
// User 0 bought item 1 twice: one edge.
Interactions hand() { return Interactions::from_vectors({0, 0, 0, 1}, {0, 1, 1, 1}, 3, 3); }

TEST(BipartiteGraph, HandGraphHasMergedEdgesAndInverseSqrtDegreeValues) {
  const BipartiteGraph g = bipartite_graph(hand());
  EXPECT_EQ(g.num_nodes(), 6);
  EXPECT_EQ(g.item_node(1), 4);
  // Degrees: u0 2, u1 1, u2 0, i0 1, i1 2, i2 0.
  EXPECT_EQ(g.degrees.to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 0, 1, 2, 0}));
  const ops::Csr& a = g.adjacency;
  EXPECT_EQ(a.rows, 6);
  EXPECT_EQ(a.cols, 6);
  EXPECT_EQ(a.row_ptr.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 3, 3, 4, 6, 6}));
  EXPECT_EQ(a.col_idx.to_vector<int64_t>(), (std::vector<int64_t>{3, 4, 4, 0, 0, 1}));
  const double h = 1.0 / std::sqrt(2.0), q = 0.5;
  // u0-i0: 1/sqrt(2*1); u0-i1: 1/sqrt(2*2); u1-i1: 1/sqrt(1*2); then the transposes.
  EXPECT_TRUE(testing::all_close(a.values, Tensor::from_vector<float>({float(h), float(q), float(h), float(h),
                                                                        float(q), float(h)})));
  EXPECT_EQ(a.values.dtype(), DType::f32);
  // A valid CSR by make_csr's own checks.
  EXPECT_NO_THROW(ops::make_csr(a.row_ptr, a.col_idx, a.values, a.rows, a.cols));
}

TEST(BipartiteGraph, SelfLoopsUseRenormalisedDegrees) {
  const BipartiteGraph g = bipartite_graph(hand(), {.self_loops = true, .dtype = DType::f64, .index_dtype = DType::i32});
  const ops::Csr& a = g.adjacency;
  EXPECT_EQ(a.col_idx.dtype(), DType::i32);
  EXPECT_EQ(a.row_ptr.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 5, 6, 8, 11, 12}));
  EXPECT_EQ(a.col_idx.to_vector<int32_t>(), (std::vector<int32_t>{0, 3, 4, 1, 4, 2, 0, 3, 0, 1, 4, 5}));
  // Degrees + 1: u0 3, u1 2, u2 1, i0 2, i1 3, i2 1.
  auto v = [](double a, double b) { return 1.0 / std::sqrt(a * b); };
  EXPECT_TRUE(testing::all_close(a.values, Tensor::from_vector<double>({v(3, 3), v(3, 2), v(3, 3), v(2, 2), v(2, 3),
                                                                         v(1, 1), v(2, 3), v(2, 2), v(3, 3), v(2, 3),
                                                                         v(3, 3), v(1, 1)}),
                                 1e-14, 0));
  EXPECT_EQ(g.degrees.to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 0, 1, 2, 0}));
}

// spmm with the graph equals the dense product D^-1/2 A D^-1/2 X computed by plain loops.
void expect_dense_match(bool self_loops, DType index_dtype) {
  const int64_t U = 40, I = 25, N = U + I, d = 5;
  Generator gen(17);
  std::vector<int64_t> users, items;
  for (int64_t k = 0; k < 300; ++k) {
    users.push_back(static_cast<int64_t>(gen.next_below(U - 3)));  // the last 3 users are isolated
    items.push_back(static_cast<int64_t>(gen.next_below(I)));
  }
  const Interactions x = Interactions::from_vectors(users, items, U, I);
  const BipartiteGraph g =
      bipartite_graph(x, {.self_loops = self_loops, .dtype = DType::f64, .index_dtype = index_dtype});

  std::vector<double> A(static_cast<size_t>(N * N), 0.0);
  for (size_t k = 0; k < users.size(); ++k) {
    A[static_cast<size_t>(users[k] * N + U + items[k])] = 1;
    A[static_cast<size_t>((U + items[k]) * N + users[k])] = 1;
  }
  if (self_loops)
    for (int64_t a = 0; a < N; ++a) A[static_cast<size_t>(a * N + a)] = 1;
  std::vector<double> deg(static_cast<size_t>(N), 0.0);
  for (int64_t a = 0; a < N; ++a)
    for (int64_t b = 0; b < N; ++b) deg[static_cast<size_t>(a)] += A[static_cast<size_t>(a * N + b)];
  const Tensor X = testing::random_tensor({N, d}, gen);
  const std::vector<double> xv = X.to_vector<double>();
  std::vector<double> expected(static_cast<size_t>(N * d), 0.0);
  for (int64_t a = 0; a < N; ++a)
    for (int64_t b = 0; b < N; ++b) {
      if (A[static_cast<size_t>(a * N + b)] == 0) continue;
      const double w = 1.0 / std::sqrt(deg[static_cast<size_t>(a)] * deg[static_cast<size_t>(b)]);
      for (int64_t c = 0; c < d; ++c) expected[static_cast<size_t>(a * d + c)] += w * xv[static_cast<size_t>(b * d + c)];
    }
  EXPECT_TRUE(testing::all_close(ops::spmm(g.adjacency, X), Tensor::from_vector(expected, {N, d}), 1e-12, 1e-14))
      << "self loops " << self_loops;
  // Degrees are distinct neighbours, without the self loop.
  const std::vector<int64_t> degrees = g.degrees.to_vector<int64_t>();
  for (int64_t a = 0; a < N; ++a)
    EXPECT_EQ(static_cast<double>(degrees[static_cast<size_t>(a)]), deg[static_cast<size_t>(a)] - (self_loops ? 1 : 0));
}

TEST(BipartiteGraph, SpmmEqualsTheDenseNormalisedProduct) {
  expect_dense_match(false, DType::i64);
  expect_dense_match(true, DType::i64);
  expect_dense_match(false, DType::i32);
}

TEST(BipartiteGraph, LargeGraphIsSortedSymmetricAndTheSameOnAnyThreadCount) {
  // Big enough for several chunks and buckets in the transpose.
  const int64_t U = 5000, I = 3000;
  Generator gen(23);
  std::vector<int64_t> users, items;
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (int64_t k = 0; k < 300000; ++k) {
    users.push_back(static_cast<int64_t>(gen.next_below(U)));
    items.push_back(static_cast<int64_t>(std::min(gen.next_below(I), gen.next_below(I))));
    pairs.emplace(users.back(), items.back());
  }
  const Interactions x = Interactions::from_vectors(users, items, U, I);
  const BipartiteGraph g = bipartite_graph(x);
  const std::vector<int64_t> rp = g.adjacency.row_ptr.to_vector<int64_t>(), col = g.adjacency.col_idx.to_vector<int64_t>();
  const std::vector<float> val = g.adjacency.values.to_vector<float>();
  ASSERT_EQ(g.adjacency.nnz(), 2 * static_cast<int64_t>(pairs.size()));
  std::map<std::pair<int64_t, int64_t>, float> entries;
  for (int64_t a = 0; a < U + I; ++a)
    for (int64_t k = rp[static_cast<size_t>(a)]; k < rp[static_cast<size_t>(a) + 1]; ++k) {
      if (k > rp[static_cast<size_t>(a)]) {
        ASSERT_LT(col[static_cast<size_t>(k) - 1], col[static_cast<size_t>(k)]) << "row " << a;
      }
      entries[{a, col[static_cast<size_t>(k)]}] = val[static_cast<size_t>(k)];
    }
  for (const auto& [u, i] : pairs) {
    const auto forward = entries.find({u, U + i}), backward = entries.find({U + i, u});
    ASSERT_TRUE(forward != entries.end() && backward != entries.end()) << u << ", " << i;
    EXPECT_EQ(forward->second, backward->second);
  }
  for (int threads : {1, 3}) {
    BipartiteGraph again;
    ASSERT_TRUE(testing::with_omp_threads(threads, [&] { again = bipartite_graph(x); }));
    EXPECT_EQ(again.adjacency.col_idx.to_vector<int64_t>(), col) << threads << " threads";
    EXPECT_EQ(again.adjacency.values.to_vector<float>(), val) << threads << " threads";
    EXPECT_EQ(again.adjacency.row_ptr.to_vector<int64_t>(), rp) << threads << " threads";
  }
}

TEST(BipartiteGraph, EmptyGraphAndBadOptions) {
  const BipartiteGraph g = bipartite_graph(Interactions::empty(2, 3));
  EXPECT_EQ(g.adjacency.nnz(), 0);
  EXPECT_EQ(g.adjacency.row_ptr.to_vector<int64_t>(), std::vector<int64_t>(6, 0));
  EXPECT_MESSAGE_HAS(testing::error_message([] { bipartite_graph(hand(), {.dtype = DType::i64}); }),
                     "values dtype must be f32 or f64");
  EXPECT_MESSAGE_HAS(testing::error_message([] { bipartite_graph(hand(), {.index_dtype = DType::f32}); }),
                     "index dtype must be i32 or i64");
}

}  // namespace
}  // namespace aisle::data
