#include "src/models/item_knn/similarity.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "src/core/parallel.hpp"

namespace aisle::models::knn {

namespace {

struct ItemMajor {
  std::vector<int64_t> offsets;  // [items + 1]
  std::vector<int64_t> users;    // ascending within an item
  std::vector<double> values;
};

ItemMajor transpose(const UserItemMatrix& m) {
  ItemMajor t;
  t.offsets.assign(static_cast<size_t>(m.num_items) + 1, 0);
  for (int64_t i : m.items) ++t.offsets[static_cast<size_t>(i) + 1];
  std::partial_sum(t.offsets.begin(), t.offsets.end(), t.offsets.begin());
  t.users.resize(m.items.size());
  t.values.resize(m.items.size());
  std::vector<int64_t> next(t.offsets.begin(), t.offsets.end() - 1);
  for (int64_t u = 0; u < m.num_users; ++u)
    for (int64_t e = m.offsets[static_cast<size_t>(u)]; e < m.offsets[static_cast<size_t>(u) + 1]; ++e) {
      const int64_t slot = next[static_cast<size_t>(m.items[static_cast<size_t>(e)])]++;
      t.users[static_cast<size_t>(slot)] = u;
      t.values[static_cast<size_t>(slot)] = m.values[static_cast<size_t>(e)];
    }
  return t;
}

struct Candidate {
  float sim;
  int64_t item;
};
bool better(const Candidate& a, const Candidate& b) { return a.sim > b.sim || (a.sim == b.sim && a.item < b.item); }

}  // namespace

UserItemMatrix binary_matrix(const data::UserItemIndex& index) {
  UserItemMatrix m;
  m.num_users = index.num_users();
  m.num_items = index.num_items();
  m.offsets.resize(static_cast<size_t>(m.num_users) + 1);
  for (int64_t u = 0; u < m.num_users; ++u) {
    m.items.insert(m.items.end(), index.begin(u), index.end(u));
    m.offsets[static_cast<size_t>(u) + 1] = static_cast<int64_t>(m.items.size());
  }
  m.values.assign(m.items.size(), 1.0);
  return m;
}

UserItemMatrix value_matrix(const data::Interactions& rows) {
  UserItemMatrix m;
  m.num_users = rows.num_users;
  m.num_items = rows.num_items;
  const int64_t n = rows.size();
  const int64_t* user = n ? rows.users.data<int64_t>() : nullptr;
  const int64_t* item = n ? rows.items.data<int64_t>() : nullptr;
  const float* value = n ? rows.values.data<float>() : nullptr;
  // Rows grouped by user (a stable counting sort keeps row order within a user).
  std::vector<int64_t> start(static_cast<size_t>(m.num_users) + 1, 0);
  for (int64_t r = 0; r < n; ++r) ++start[static_cast<size_t>(user[r]) + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<int64_t> by_user(static_cast<size_t>(n));
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t r = 0; r < n; ++r) by_user[static_cast<size_t>(next[static_cast<size_t>(user[r])]++)] = r;
  }
  // Per user: rows by item (stable), duplicates merged in row order. Users are independent.
  std::vector<int64_t> distinct(static_cast<size_t>(m.num_users), 0);
  std::vector<int64_t> merged_item(static_cast<size_t>(n));
  std::vector<double> merged_value(static_cast<size_t>(n));
  cpu::parallel_for(m.num_users, 256, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      int64_t* first = by_user.data() + start[static_cast<size_t>(u)];
      int64_t* last = by_user.data() + start[static_cast<size_t>(u) + 1];
      std::stable_sort(first, last, [&](int64_t a, int64_t b) { return item[a] < item[b]; });
      int64_t out = start[static_cast<size_t>(u)] - 1;
      for (const int64_t* r = first; r != last; ++r) {
        if (r == first || item[*r] != item[*(r - 1)]) {
          ++out;
          merged_item[static_cast<size_t>(out)] = item[*r];
          merged_value[static_cast<size_t>(out)] = 0.0;
        }
        merged_value[static_cast<size_t>(out)] += static_cast<double>(value[*r]);
      }
      distinct[static_cast<size_t>(u)] = out + 1 - start[static_cast<size_t>(u)];
    }
  });
  m.offsets.resize(static_cast<size_t>(m.num_users) + 1);
  for (int64_t u = 0; u < m.num_users; ++u) {
    const size_t s = static_cast<size_t>(start[static_cast<size_t>(u)]), d = static_cast<size_t>(distinct[static_cast<size_t>(u)]);
    m.items.insert(m.items.end(), merged_item.begin() + static_cast<std::ptrdiff_t>(s),
                   merged_item.begin() + static_cast<std::ptrdiff_t>(s + d));
    m.values.insert(m.values.end(), merged_value.begin() + static_cast<std::ptrdiff_t>(s),
                    merged_value.begin() + static_cast<std::ptrdiff_t>(s + d));
    m.offsets[static_cast<size_t>(u) + 1] = static_cast<int64_t>(m.items.size());
  }
  return m;
}

NeighborTable top_neighbors(const UserItemMatrix& m, int64_t width, double shrink) {
  const int64_t items = m.num_items;
  NeighborTable out{Tensor::full({items, width}, -1.0, DType::i64), Tensor::zeros({items, width}, DType::f32)};
  if (items == 0 || width == 0) return out;
  const ItemMajor t = transpose(m);
  std::vector<double> norm(static_cast<size_t>(items));
  for (int64_t i = 0; i < items; ++i) {
    double s = 0;
    for (int64_t e = t.offsets[static_cast<size_t>(i)]; e < t.offsets[static_cast<size_t>(i) + 1]; ++e)
      s += t.values[static_cast<size_t>(e)] * t.values[static_cast<size_t>(e)];
    norm[static_cast<size_t>(i)] = std::sqrt(s);
  }
  int64_t* out_items = out.items.data<int64_t>();
  float* out_weights = out.weights.data<float>();

  // Popular items cost far more than rare ones (the sum of their users' history lengths), so the
  // items are dealt out dynamically; each is computed on its own, so the schedule cannot change
  // the result.
#pragma omp parallel
  {
    std::vector<double> dot(static_cast<size_t>(items), 0.0);
    std::vector<uint8_t> touched(static_cast<size_t>(items), 0);
    std::vector<int64_t> touched_list;
    std::vector<Candidate> candidates;
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < items; ++i) {
      touched_list.clear();
      for (int64_t e = t.offsets[static_cast<size_t>(i)]; e < t.offsets[static_cast<size_t>(i) + 1]; ++e) {
        const int64_t u = t.users[static_cast<size_t>(e)];
        const double xi = t.values[static_cast<size_t>(e)];
        for (int64_t f = m.offsets[static_cast<size_t>(u)]; f < m.offsets[static_cast<size_t>(u) + 1]; ++f) {
          const int64_t j = m.items[static_cast<size_t>(f)];
          if (!touched[static_cast<size_t>(j)]) {
            touched[static_cast<size_t>(j)] = 1;
            touched_list.push_back(j);
          }
          dot[static_cast<size_t>(j)] += xi * m.values[static_cast<size_t>(f)];
        }
      }
      candidates.clear();
      for (int64_t j : touched_list) {
        const double d = dot[static_cast<size_t>(j)];
        dot[static_cast<size_t>(j)] = 0.0;
        touched[static_cast<size_t>(j)] = 0;
        if (j == i) continue;
        const double denominator = norm[static_cast<size_t>(i)] * norm[static_cast<size_t>(j)] + shrink;
        const float sim = denominator > 0 ? static_cast<float>(d / denominator) : 0.0f;
        if (sim != 0.0f && std::isfinite(sim)) candidates.push_back({sim, j});
      }
      const size_t keep = std::min(candidates.size(), static_cast<size_t>(width));
      std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(), better);
      for (size_t k = 0; k < keep; ++k) {
        out_items[i * width + static_cast<int64_t>(k)] = candidates[k].item;
        out_weights[i * width + static_cast<int64_t>(k)] = candidates[k].sim;
      }
    }
  }
  return out;
}

}  // namespace aisle::models::knn
