#include "aisle/data/compact.hpp"

#include <algorithm>

#include "aisle/ops/scatter.hpp"
#include "src/core/parallel.hpp"

namespace aisle::data {

namespace {

// old -> new over ids that occur in `ids`, numbered in old-id order, and its inverse.
void renumber(const Tensor& ids, int64_t count, Tensor& old_to_new, Tensor& new_to_old) {
  const int64_t n = ids.numel();
  const int64_t* p = ids.data<int64_t>();
  std::vector<uint8_t> used(static_cast<size_t>(count), 0);
  for (int64_t r = 0; r < n; ++r) used[static_cast<size_t>(p[r])] = 1;
  old_to_new = Tensor::empty({count}, DType::i64);
  int64_t* o2n = old_to_new.data<int64_t>();
  int64_t next = 0;
  for (int64_t k = 0; k < count; ++k) o2n[k] = used[static_cast<size_t>(k)] ? next++ : -1;
  new_to_old = Tensor::empty({next}, DType::i64);
  int64_t* n2o = new_to_old.data<int64_t>();
  for (int64_t k = 0; k < count; ++k)
    if (o2n[k] >= 0) n2o[o2n[k]] = k;
}

Tensor apply(const Tensor& ids, const Tensor& old_to_new) {
  const int64_t n = ids.numel();
  Tensor out = Tensor::empty({n}, DType::i64);
  const int64_t* p = ids.data<int64_t>();
  const int64_t* map = old_to_new.data<int64_t>();
  int64_t* o = out.data<int64_t>();
  cpu::parallel_for(n, 1 << 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) o[r] = map[p[r]];
  });
  return out;
}

void check_new_to_old(const char* where, const Tensor& new_to_old, int64_t old_count) {
  AISLE_CHECK(new_to_old.defined() && new_to_old.dim() == 1 && new_to_old.dtype() == DType::i64 &&
                  !new_to_old.is_cuda(),
              where, ": 'new_to_old' must be a 1-D i64 CPU tensor, got ",
              new_to_old.defined() ? new_to_old.describe() : "an undefined tensor");
  const int64_t* p = new_to_old.data<int64_t>();
  for (int64_t k = 0; k < new_to_old.numel(); ++k)
    AISLE_CHECK(p[k] >= 0 && p[k] < old_count, where, ": new_to_old[", k, "] = ", p[k], " is outside [0, ",
                old_count, ")");
}

}  // namespace

Compacted compact_ids(const Interactions& x) {
  x.validate("compact_ids");
  Compacted c;
  renumber(x.users, x.num_users, c.user_old_to_new, c.user_new_to_old);
  renumber(x.items, x.num_items, c.item_old_to_new, c.item_new_to_old);
  c.interactions = x;
  c.interactions.users = apply(x.users, c.user_old_to_new);
  c.interactions.items = apply(x.items, c.item_old_to_new);
  c.interactions.num_users = c.user_new_to_old.numel();
  c.interactions.num_items = c.item_new_to_old.numel();
  return c;
}

IdMap compact_id_map(const IdMap& ids, const Tensor& new_to_old) {
  check_new_to_old("compact_id_map", new_to_old, ids.size());
  const int64_t m = new_to_old.numel();
  const int64_t* p = new_to_old.data<int64_t>();
  bool identity = ids.is_dense();
  for (int64_t k = 0; k < m && identity; ++k) identity = p[k] == k;
  if (identity) return IdMap::dense(m);  // a dense prefix stays dense (no strings to store)
  IdInterner interner;
  for (int64_t k = 0; k < m; ++k) interner.intern(ids.external(p[k]));
  return interner.to_map();
}

SideFeatures compact_side_features(const SideFeatures& f, const Tensor& new_to_old) {
  SideFeatures out;
  for (const auto& [name, c] : f.categorical) {
    check_new_to_old("compact_side_features", new_to_old, c.codes.numel());
    out.categorical[name] = {ops::gather_rows(c.codes, new_to_old), c.vocab};
  }
  for (const auto& [name, v] : f.numeric) {
    check_new_to_old("compact_side_features", new_to_old, v.values.numel());
    out.numeric[name] = {ops::gather_rows(v.values, new_to_old)};
  }
  for (const auto& [name, t] : f.tokens) {
    check_new_to_old("compact_side_features", new_to_old, t.offsets.numel() - 1);
    const int64_t m = new_to_old.numel();
    const int64_t* p = new_to_old.data<int64_t>();
    const int64_t* off = t.offsets.data<int64_t>();
    const int64_t* tok = t.tokens.data<int64_t>();
    Tensor offsets = Tensor::empty({m + 1}, DType::i64);
    int64_t* no = offsets.data<int64_t>();
    no[0] = 0;
    for (int64_t k = 0; k < m; ++k) no[k + 1] = no[k] + off[p[k] + 1] - off[p[k]];
    Tensor tokens = Tensor::empty({no[m]}, DType::i64);
    int64_t* nt = tokens.data<int64_t>();
    for (int64_t k = 0; k < m; ++k) std::copy(tok + off[p[k]], tok + off[p[k] + 1], nt + no[k]);
    out.tokens[name] = {offsets, tokens, t.vocab};
  }
  return out;
}

}  // namespace aisle::data
