// Row exchanges between ranks (src/dist/sparse_rows_exchange): sums of replicated gradient rows,
// gradient rows pushed to their owners, rows fetched from owners and whole tables gathered, on
// 1-4 in-process ranks against plain loops over every rank's input.
#include "src/dist/sparse_rows_exchange.hpp"

#include <gtest/gtest.h>

#include <map>

#include "support/testing.hpp"
#include "support/thread_communicator.hpp"

namespace aisle::dist {
namespace {

using testing::run_ranks;

constexpr int64_t kRows = 23, kWidth = 3;

// Rank r's coalesced gradient: ids with (id * 7 + r) % (r + 2) == 0 (rank 1 of 4 gets none when
// asked), row values id + 0.25 r + 0.01 c.
ops::SparseRows rank_rows(int rank, bool empty) {
  std::vector<int64_t> ids;
  std::vector<float> rows;
  for (int64_t id = 0; id < kRows && !empty; ++id) {
    if ((id * 7 + rank) % (rank + 2) != 0) continue;
    ids.push_back(id);
    for (int64_t c = 0; c < kWidth; ++c) rows.push_back(static_cast<float>(id) + 0.25f * rank + 0.01f * c);
  }
  return {Tensor::from_vector(ids), Tensor::from_vector(rows, {static_cast<int64_t>(ids.size()), kWidth})};
}

// The sum over ranks, in rank order, by id.
std::map<int64_t, std::vector<float>> reference(int world, int empty_rank) {
  std::map<int64_t, std::vector<float>> sum;
  for (int r = 0; r < world; ++r) {
    const ops::SparseRows g = rank_rows(r, r == empty_rank);
    const auto ids = g.indices.to_vector<int64_t>();
    const auto rows = g.rows.to_vector<float>();
    for (size_t i = 0; i < ids.size(); ++i) {
      auto [it, fresh] = sum.try_emplace(ids[i], std::vector<float>(kWidth, 0.0f));
      for (int64_t c = 0; c < kWidth; ++c) it->second[static_cast<size_t>(c)] += rows[i * kWidth + static_cast<size_t>(c)];
    }
  }
  return sum;
}

void expect_rows(const ops::SparseRows& got, const std::map<int64_t, std::vector<float>>& expected,
                 const std::function<int64_t(int64_t)>& id_of) {
  std::vector<int64_t> ids;
  std::vector<float> rows;
  for (const auto& [id, row] : expected) {
    ids.push_back(id_of(id));
    rows.insert(rows.end(), row.begin(), row.end());
  }
  EXPECT_EQ(got.indices.to_vector<int64_t>(), ids);
  EXPECT_EQ(got.rows.shape(), (Shape{static_cast<int64_t>(ids.size()), kWidth}));
  EXPECT_EQ(got.rows.to_vector<float>(), rows);  // the same order of additions: bit-identical
}

class RowsExchange : public ::testing::TestWithParam<int> {};

TEST_P(RowsExchange, AllReduceRowsGivesEveryRankTheCoalescedSum) {
  const int world = GetParam();
  for (const int empty_rank : {-1, world - 1}) {
    const auto expected = reference(world, empty_rank);
    run_ranks(world, [&](int rank, Communicator& comm) {
      const ops::SparseRows got = all_reduce_rows(comm, rank_rows(rank, rank == empty_rank), {kWidth});
      expect_rows(got, expected, [](int64_t id) { return id; });
    });
  }
}

TEST_P(RowsExchange, OwnersReceiveTheirRowsByLocalId) {
  const int world = GetParam();
  const auto all = reference(world, 0);
  run_ranks(world, [&](int rank, Communicator& comm) {
    const RowSharding s{kRows, world, rank};
    const ops::SparseRows got = reduce_rows_to_owners(comm, rank_rows(rank, rank == 0), s, {kWidth});
    std::map<int64_t, std::vector<float>> mine;
    for (const auto& [id, row] : all)
      if (s.owner(id) == rank) mine.emplace(id, row);
    expect_rows(got, mine, [&](int64_t id) { return s.local_row(id); });
  });
}

// Table row g holds (g, -g); rank r asks for a rank-dependent list with repeats, or for nothing.
TEST_P(RowsExchange, FetchRowsAndGatherTableRebuildTheTable) {
  const int world = GetParam();
  run_ranks(world, [&](int rank, Communicator& comm) {
    const RowSharding s{kRows, world, rank};
    std::vector<float> local;
    for (int64_t l = 0; l < s.local_rows(); ++l) {
      const float g = static_cast<float>(s.global_row(l, rank));
      local.insert(local.end(), {g, -g});
    }
    const Tensor table = Tensor::from_vector(local, {s.local_rows(), 2});
    std::vector<int64_t> wanted;
    if (rank != 1)
      for (int64_t i = 0; i < 9; ++i) wanted.push_back((i * 5 + rank * 3) % kRows);
    wanted.push_back(kRows - 1);
    const Tensor got = fetch_rows(comm, table, s, Tensor::from_vector(wanted));
    std::vector<float> expected;
    for (int64_t g : wanted) expected.insert(expected.end(), {static_cast<float>(g), -static_cast<float>(g)});
    ASSERT_EQ(got.shape(), (Shape{static_cast<int64_t>(wanted.size()), 2}));
    EXPECT_EQ(got.to_vector<float>(), expected);
    const Tensor none = fetch_rows(comm, table, s, Tensor::zeros({0}, DType::i64));
    EXPECT_EQ(none.shape(), (Shape{0, 2}));

    const Tensor whole = gather_table(comm, table, s);
    std::vector<float> all;
    for (int64_t g = 0; g < kRows; ++g) all.insert(all.end(), {static_cast<float>(g), -static_cast<float>(g)});
    EXPECT_EQ(whole.to_vector<float>(), all);
    // A 1-D table (a bias) goes the same way.
    std::vector<float> bias;
    for (int64_t l = 0; l < s.local_rows(); ++l) bias.push_back(0.5f * static_cast<float>(s.global_row(l, rank)));
    const Tensor whole_bias = gather_table(comm, Tensor::from_vector(bias), s);
    ASSERT_EQ(whole_bias.shape(), (Shape{kRows}));
    EXPECT_EQ(whole_bias.to_vector<float>()[kRows - 1], 0.5f * (kRows - 1));
  });
}

TEST_P(RowsExchange, RejectsBadIdsAndTables) {
  const int world = GetParam();
  run_ranks(world, [&](int rank, Communicator& comm) {
    const RowSharding s{kRows, world, rank};
    const Tensor table = Tensor::zeros({s.local_rows(), 2});
    // Checked before any collective, on every rank alike.
    EXPECT_NE(testing::error_message([&] { fetch_rows(comm, table, s, Tensor::from_vector(std::vector<int64_t>{kRows})); })
                  .find("fetch_rows: id 23 at 0 is outside [0, 23)"),
              std::string::npos);
    EXPECT_NE(testing::error_message([&] { fetch_rows(comm, Tensor::zeros({kRows + 1, 2}), s, Tensor::zeros({0}, DType::i64)); })
                  .find("must have"),
              std::string::npos);
    EXPECT_NE(testing::error_message([&] { all_reduce_rows(comm, rank_rows(rank, false), {kWidth + 1}); })
                  .find("do not match"),
              std::string::npos);
    EXPECT_NE(testing::error_message([&] { gather_table(comm, table, RowSharding{kRows, world + 1, rank}); })
                  .find("sharding of rank"),
              std::string::npos);
  });
}

INSTANTIATE_TEST_SUITE_P(Worlds, RowsExchange, ::testing::Values(1, 2, 3, 4));

}  // namespace
}  // namespace aisle::dist
