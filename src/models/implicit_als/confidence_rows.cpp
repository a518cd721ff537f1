#include "src/models/implicit_als/confidence_rows.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "aisle/core/error.hpp"
#include "src/core/parallel.hpp"

namespace aisle::models::als {

namespace {

struct Cell {
  int64_t column;
  double value;
};

}  // namespace

ConfidenceMatrix build_confidence(const data::Interactions& x, const Confidence& confidence) {
  x.validate("als training rows");
  constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();
  AISLE_CHECK(x.num_users <= kMaxId && x.num_items <= kMaxId, "als: ", x.num_users, " users and ", x.num_items,
              " items; at most ", kMaxId, " of each are supported");
  const int64_t n = x.size();
  const Tensor users = x.users.to(Device::cpu()), items = x.items.to(Device::cpu());
  const Tensor values = x.values.to(Device::cpu());
  const int64_t* u = users.data<int64_t>();
  const int64_t* it = items.data<int64_t>();
  const float* v = values.data<float>();
  for (int64_t row = 0; row < n; ++row)
    AISLE_DATA_CHECK(std::isfinite(v[row]) && v[row] >= 0, "als: training row ", row, " (user ", u[row], ", item ",
                     it[row], ") has value ", v[row], "; implicit ALS needs values >= 0 (confidence 1 + alpha * r)");

  // Bucket rows by user in row order (a counting sort keeps the order of equal users).
  ConfidenceMatrix out;
  ConfidenceRows& byu = out.by_user;
  byu.rows = x.num_users;
  byu.cols = x.num_items;
  std::vector<int64_t> start(static_cast<size_t>(x.num_users) + 1, 0);
  for (int64_t row = 0; row < n; ++row) ++start[static_cast<size_t>(u[row]) + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<Cell> cells(static_cast<size_t>(n));
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t row = 0; row < n; ++row)
      cells[static_cast<size_t>(next[static_cast<size_t>(u[row])]++)] = Cell{it[row], static_cast<double>(v[row])};
  }

  // Per user: order by item (stable, so repeats are summed in row order) and merge repeats.
  std::vector<int64_t> distinct(static_cast<size_t>(x.num_users), 0);
  cpu::parallel_for(x.num_users, 256, [&](int64_t b, int64_t e) {
    for (int64_t user = b; user < e; ++user) {
      Cell* first = cells.data() + start[static_cast<size_t>(user)];
      Cell* last = cells.data() + start[static_cast<size_t>(user) + 1];
      std::stable_sort(first, last, [](const Cell& a, const Cell& c) { return a.column < c.column; });
      Cell* write = first;
      for (Cell* c = first; c < last; ++c) {
        if (write > first && (write - 1)->column == c->column) (write - 1)->value += c->value;
        else *write++ = *c;
      }
      distinct[static_cast<size_t>(user)] = write - first;
    }
  });

  byu.offsets.assign(static_cast<size_t>(x.num_users) + 1, 0);
  for (int64_t user = 0; user < x.num_users; ++user)
    byu.offsets[static_cast<size_t>(user) + 1] = byu.offsets[static_cast<size_t>(user)] + distinct[static_cast<size_t>(user)];
  const int64_t nnz = byu.offsets.back();
  byu.columns.resize(static_cast<size_t>(nnz));
  byu.extra.resize(static_cast<size_t>(nnz));
  cpu::parallel_for(x.num_users, 256, [&](int64_t b, int64_t e) {
    for (int64_t user = b; user < e; ++user) {
      const Cell* from = cells.data() + start[static_cast<size_t>(user)];
      for (int64_t k = 0; k < distinct[static_cast<size_t>(user)]; ++k) {
        const size_t to = static_cast<size_t>(byu.offsets[static_cast<size_t>(user)] + k);
        byu.columns[to] = static_cast<int32_t>(from[k].column);
        byu.extra[to] = static_cast<float>(confidence.extra(from[k].value));
      }
    }
  });
  out.by_item = transpose(byu);
  return out;
}

ConfidenceRows transpose(const ConfidenceRows& m) {
  ConfidenceRows t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.offsets.assign(static_cast<size_t>(t.rows) + 1, 0);
  for (int32_t c : m.columns) ++t.offsets[static_cast<size_t>(c) + 1];
  std::partial_sum(t.offsets.begin(), t.offsets.end(), t.offsets.begin());
  t.columns.resize(m.columns.size());
  t.extra.resize(m.extra.size());
  std::vector<int64_t> next(t.offsets.begin(), t.offsets.end() - 1);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t e = m.offsets[static_cast<size_t>(r)]; e < m.offsets[static_cast<size_t>(r) + 1]; ++e) {
      const size_t to = static_cast<size_t>(next[static_cast<size_t>(m.columns[static_cast<size_t>(e)])]++);
      t.columns[to] = static_cast<int32_t>(r);
      t.extra[to] = m.extra[static_cast<size_t>(e)];
    }
  return t;
}

}  // namespace aisle::models::als
