#include "aisle/data/sequences.hpp"

#include <algorithm>

#include "src/core/parallel.hpp"
#include "src/data/group_by_key.hpp"

namespace aisle::data {

UserSequences::UserSequences(const Interactions& x) : num_items_(x.num_items) {
  x.validate("UserSequences");
  const int64_t n = x.size();
  const int64_t* u = x.users.data<int64_t>();
  const int64_t* it = x.items.data<int64_t>();
  const int64_t* ts = x.timestamps.data<int64_t>();
  // Grouping by user keeps each user's rows in row order; sorting by (timestamp, row) then orders
  // by time with ties in row order: a stable sort without stable_sort's buffer per user. The keys
  // are gathered side by side first, so the sorts compare cached data.
  std::vector<int64_t> rows;
  detail::group_by_key(u, nullptr, n, x.num_users, offsets_, rows);
  struct Key {
    int64_t time, row;
    bool operator<(const Key& o) const { return time != o.time ? time < o.time : row < o.row; }
  };
  std::vector<Key> keys(static_cast<size_t>(n));
  items_.resize(static_cast<size_t>(n));
  cpu::parallel_for(x.num_users, 256, [&](int64_t u0, int64_t u1) {
    for (int64_t k = u0; k < u1; ++k) {
      const int64_t b = offsets_[static_cast<size_t>(k)], e = offsets_[static_cast<size_t>(k) + 1];
      for (int64_t q = b; q < e; ++q) keys[static_cast<size_t>(q)] = Key{ts[rows[static_cast<size_t>(q)]], rows[static_cast<size_t>(q)]};
      std::sort(keys.begin() + b, keys.begin() + e);
      for (int64_t q = b; q < e; ++q) items_[static_cast<size_t>(q)] = it[keys[static_cast<size_t>(q)].row];
    }
  });
}

void UserSequences::check_users(const Tensor& users, int64_t max_len, const char* op) const {
  AISLE_CHECK(users.defined() && users.dim() == 1 && users.dtype() == DType::i64 && !users.is_cuda(), op,
              ": users must be a 1-D i64 CPU tensor, got ",
              users.defined() ? users.describe() : std::string("an undefined tensor"));
  AISLE_CHECK(max_len >= 1, op, ": max_len must be at least 1, got ", max_len);
  const int64_t* u = users.data<int64_t>();
  for (int64_t r = 0; r < users.numel(); ++r)
    AISLE_CHECK(u[r] >= 0 && u[r] < num_users(), op, ": user id ", u[r], " at position ", r, " is outside [0, ",
                num_users(), ")");
}

Tensor UserSequences::history(const Tensor& users, int64_t max_len) const {
  check_users(users, max_len, "UserSequences::history");
  const int64_t b = users.numel();
  Tensor out = Tensor::empty({b, max_len}, DType::i64);
  int64_t* po = out.data<int64_t>();
  const int64_t* pu = users.data<int64_t>();
  cpu::parallel_for(b, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t* row = po + r * max_len;
      const int64_t m = std::min(length(pu[r]), max_len);
      const int64_t* recent = end(pu[r]) - m;
      std::fill(row, row + max_len - m, kPadToken);
      for (int64_t q = 0; q < m; ++q) row[max_len - m + q] = item_token(recent[q]);
    }
  });
  return out;
}

SequenceBatch UserSequences::training_batch(const Tensor& users, int64_t max_len, const NegativeSampler& negatives,
                                            Generator& gen) const {
  return training_batch(users, max_len, &negatives, gen.seed(), gen.take_stream());
}

SequenceBatch UserSequences::training_batch(const Tensor& users, int64_t max_len, const NegativeSampler* negatives,
                                            uint64_t seed, uint64_t stream) const {
  const char* op = "UserSequences::training_batch";
  check_users(users, max_len, op);
  if (negatives) {
    AISLE_CHECK(negatives->num_users() == num_users() && negatives->num_items() == num_items(), op,
                ": the negative sampler covers ", negatives->num_users(), " users and ", negatives->num_items(),
                " items, the sequences ", num_users(), " and ", num_items());
    AISLE_CHECK(static_cast<uint64_t>(num_users()) < (uint64_t{1} << 56) / static_cast<uint64_t>(max_len), op,
                ": num_users * max_len must stay below 2^56 (negative sampling slots)");
    // Only users with a real target draw negatives; they must have a non-positive to draw.
    std::vector<int64_t> drawing;
    const int64_t* pu = users.data<int64_t>();
    for (int64_t r = 0; r < users.numel(); ++r)
      if (length(pu[r]) >= 2) drawing.push_back(pu[r]);
    negatives->check_users(Tensor::from_vector(drawing), op);
  }
  const int64_t b = users.numel();
  SequenceBatch out;
  out.inputs = Tensor::empty({b, max_len}, DType::i64);
  out.targets = Tensor::empty({b, max_len}, DType::i64);
  if (negatives) out.negatives = Tensor::empty({b, max_len}, DType::i64);
  int64_t* in = out.inputs.data<int64_t>();
  int64_t* tg = out.targets.data<int64_t>();
  int64_t* ng = negatives ? out.negatives.data<int64_t>() : nullptr;
  const int64_t* pu = users.data<int64_t>();
  cpu::parallel_for(b, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t user = pu[r];
      // The last m (input, next item) pairs of the sequence, right-aligned.
      const int64_t m = std::min(std::max<int64_t>(length(user) - 1, 0), max_len);
      const int64_t* s = m > 0 ? end(user) - m - 1 : nullptr;
      const int64_t pad = max_len - m;
      int64_t* ri = in + r * max_len;
      int64_t* rt = tg + r * max_len;
      std::fill(ri, ri + pad, kPadToken);
      std::fill(rt, rt + pad, kPadToken);
      for (int64_t q = 0; q < m; ++q) {
        ri[pad + q] = item_token(s[q]);
        rt[pad + q] = item_token(s[q + 1]);
      }
      if (!ng) continue;
      int64_t* rn = ng + r * max_len;
      std::fill(rn, rn + pad, kPadToken);
      const uint64_t base = static_cast<uint64_t>(user) * static_cast<uint64_t>(max_len);
      for (int64_t t = pad; t < max_len; ++t)
        rn[t] = item_token(negatives->draw(user, seed, stream, base + static_cast<uint64_t>(t)));
    }
  });
  return out;
}

}  // namespace aisle::data
