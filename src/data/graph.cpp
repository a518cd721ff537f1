#include "aisle/data/graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/data/group_by_key.hpp"

namespace aisle::data {

namespace {

// The rows of the graph. User rows come straight from the index (items sorted and distinct), with
// the self loop first (u < U + i). Item rows are the transpose: item_users lists each item's users
// in increasing order (item_offsets delimit them); the self loop goes last (users < U + i).
template <class Index, class Value>
void fill(const UserItemIndex& index, int64_t self, const std::vector<int64_t>& deg, const std::vector<int64_t>& rp,
          const std::vector<int64_t>& item_offsets, const std::vector<int64_t>& item_users, Index* col, Value* val) {
  const int64_t U = index.num_users(), N = static_cast<int64_t>(deg.size());
  std::vector<double> inv_sqrt(static_cast<size_t>(N));
  for (int64_t a = 0; a < N; ++a) {
    const double d = static_cast<double>(deg[static_cast<size_t>(a)] + self);
    inv_sqrt[static_cast<size_t>(a)] = d > 0 ? 1.0 / std::sqrt(d) : 0.0;
  }
  auto norm = [&](int64_t a, int64_t b) {
    return static_cast<Value>(inv_sqrt[static_cast<size_t>(a)] * inv_sqrt[static_cast<size_t>(b)]);
  };
  cpu::parallel_for(U, 1024, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      int64_t k = rp[static_cast<size_t>(u)];
      if (self) {
        col[k] = static_cast<Index>(u);
        val[k++] = norm(u, u);
      }
      for (const int64_t* p = index.begin(u); p != index.end(u); ++p, ++k) {
        col[k] = static_cast<Index>(U + *p);
        val[k] = norm(u, U + *p);
      }
    }
  });
  cpu::parallel_for(N - U, 1024, [&](int64_t i0, int64_t i1) {
    for (int64_t item = i0; item < i1; ++item) {
      const int64_t node = U + item;
      int64_t k = rp[static_cast<size_t>(node)];
      for (int64_t e = item_offsets[static_cast<size_t>(item)]; e < item_offsets[static_cast<size_t>(item) + 1]; ++e, ++k) {
        const int64_t user = item_users[static_cast<size_t>(e)];
        col[k] = static_cast<Index>(user);
        val[k] = norm(node, user);
      }
      if (self) {
        col[k] = static_cast<Index>(node);
        val[k] = norm(node, node);
      }
    }
  });
}

}  // namespace

DType compact_index_dtype(int64_t nodes) {
  return nodes <= std::numeric_limits<int32_t>::max() ? DType::i32 : DType::i64;
}

BipartiteGraph bipartite_graph(const UserItemIndex& index, const GraphOptions& options) {
  const char* op = "bipartite_graph";
  AISLE_CHECK(options.dtype == DType::f32 || options.dtype == DType::f64, op, ": values dtype must be f32 or f64, got ",
              dtype_name(options.dtype));
  AISLE_CHECK(options.index_dtype == DType::i32 || options.index_dtype == DType::i64, op,
              ": index dtype must be i32 or i64, got ", dtype_name(options.index_dtype));
  const int64_t U = index.num_users(), I = index.num_items(), N = U + I;
  AISLE_CHECK(options.index_dtype == DType::i64 || N <= std::numeric_limits<int32_t>::max(), op, ": ", N,
              " nodes do not fit i32 column ids; use index_dtype i64");
  const int64_t self = options.self_loops ? 1 : 0;

  // The index stores its rows back to back, so its items form one array of all edges; grouping
  // the edges' users by item transposes it.
  const int64_t* edge_item = U > 0 ? index.begin(0) : nullptr;
  const int64_t edges = U > 0 ? index.end(U - 1) - edge_item : 0;
  std::vector<int64_t> edge_user(static_cast<size_t>(edges));
  cpu::parallel_for(U, 1024, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) std::fill(edge_user.begin() + (index.begin(u) - edge_item),
                                                edge_user.begin() + (index.end(u) - edge_item), u);
  });
  std::vector<int64_t> item_offsets, item_users;
  detail::group_by_key(edge_item, edge_user.data(), edges, I, item_offsets, item_users);
  std::vector<int64_t> deg(static_cast<size_t>(N));
  for (int64_t u = 0; u < U; ++u) deg[static_cast<size_t>(u)] = index.degree(u);
  for (int64_t i = 0; i < I; ++i)
    deg[static_cast<size_t>(U + i)] = item_offsets[static_cast<size_t>(i) + 1] - item_offsets[static_cast<size_t>(i)];
  std::vector<int64_t> rp(static_cast<size_t>(N) + 1, 0);
  for (int64_t a = 0; a < N; ++a) rp[static_cast<size_t>(a) + 1] = rp[static_cast<size_t>(a)] + deg[static_cast<size_t>(a)] + self;
  const int64_t nnz = rp.back();

  BipartiteGraph g;
  g.num_users = U;
  g.num_items = I;
  g.degrees = Tensor::from_vector(deg);
  Tensor row_ptr = Tensor::from_vector(rp);
  Tensor col = Tensor::empty({nnz}, options.index_dtype);
  Tensor val = Tensor::empty({nnz}, options.dtype);
  detail::dispatch_index(options.index_dtype, op, [&](auto itag) {
    detail::dispatch_float(options.dtype, op, [&](auto vtag) {
      fill(index, self, deg, rp, item_offsets, item_users, col.data<decltype(itag)>(), val.data<decltype(vtag)>());
    });
  });
  // Valid by construction (row_ptr from the degrees, columns < N), so skip make_csr's O(nnz)
  // host re-validation (a copy of every column id and a serial pass).
  g.adjacency = ops::Csr{std::move(row_ptr), std::move(col), std::move(val), N, N};
  return g;
}

BipartiteGraph bipartite_graph(const Interactions& x, const GraphOptions& options) {
  return bipartite_graph(UserItemIndex(x), options);
}

}  // namespace aisle::data
