// The in-process test communicator: every collective against hand-computed results on 1-4 ranks,
// the argument checks of the interface, and no deadlock when a rank fails.
#include "support/thread_communicator.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "support/testing.hpp"

namespace aisle::testing {
namespace {

using dist::ReduceOp;

class ThreadCommunicator : public ::testing::TestWithParam<int> {};

// Rank r's [2, 2] tensor: r*10 + (0, 1, 2, 3).
Tensor rank_tensor(int r) {
  const float b = static_cast<float>(r * 10);
  return Tensor::from_vector(std::vector<float>{b, b + 1, b + 2, b + 3}, {2, 2});
}

TEST_P(ThreadCommunicator, KnowsItsRankAndBackend) {
  const int world = GetParam();
  std::atomic<int> rank_sum{0};
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    EXPECT_EQ(comm.rank(), rank);
    EXPECT_EQ(comm.world_size(), world);
    EXPECT_EQ(comm.backend(), "threads");
    rank_sum += rank;
    comm.barrier();
  });
  EXPECT_EQ(rank_sum, world * (world - 1) / 2);
}

TEST_P(ThreadCommunicator, AllReduceSumsMaxesAndMins) {
  const int world = GetParam();
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    Tensor sum = rank_tensor(rank), max = rank_tensor(rank), min = rank_tensor(rank);
    comm.all_reduce(sum);
    comm.all_reduce(max, ReduceOp::max);
    comm.all_reduce(min, ReduceOp::min);
    const float tens = static_cast<float>(10 * world * (world - 1) / 2), top = static_cast<float>(10 * (world - 1));
    const float w = static_cast<float>(world);
    EXPECT_EQ(sum.to_vector<float>(), (std::vector<float>{tens, tens + w, tens + 2 * w, tens + 3 * w}));
    EXPECT_EQ(max.to_vector<float>(), (std::vector<float>{top, top + 1, top + 2, top + 3}));
    EXPECT_EQ(min.to_vector<float>(), (std::vector<float>{0, 1, 2, 3}));
    Tensor ids = Tensor::from_vector(std::vector<int64_t>{rank, -rank});
    comm.all_reduce(ids);
    EXPECT_EQ(ids.to_vector<int64_t>(), (std::vector<int64_t>{world * (world - 1) / 2, -world * (world - 1) / 2}));
    EXPECT_DOUBLE_EQ(comm.all_reduce_scalar(0.5 + rank), 0.5 * world + world * (world - 1) / 2.0);
  });
}

// Summed in rank order: ((1e8 + 1) + ... ) in f32 loses the ones exactly as a loop in that order does.
TEST_P(ThreadCommunicator, AllReduceSumsInRankOrder) {
  const int world = GetParam();
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    Tensor t = Tensor::from_vector(std::vector<float>{rank == 0 ? 1e8f : 1.0f});
    comm.all_reduce(t);
    float expected = 1e8f;
    for (int r = 1; r < world; ++r) expected += 1.0f;
    EXPECT_EQ(t.item<float>(), expected);
  });
}

TEST_P(ThreadCommunicator, BroadcastCopiesTheRoot) {
  const int world = GetParam();
  for (int root = 0; root < world; ++root) {
    run_ranks(world, [&](int rank, dist::Communicator& comm) {
      Tensor t = rank_tensor(rank);
      comm.broadcast(t, root);
      EXPECT_EQ(t.to_vector<float>(), rank_tensor(root).to_vector<float>());
    });
  }
}

TEST_P(ThreadCommunicator, AllGatherStacksRanksInOrder) {
  const int world = GetParam();
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    const Tensor t = rank_tensor(rank);
    const Tensor all = comm.all_gather(t);
    ASSERT_EQ(all.shape(), (Shape{2 * world, 2}));
    std::vector<float> expected;
    for (int r = 0; r < world; ++r)
      for (float v : rank_tensor(r).to_vector<float>()) expected.push_back(v);
    EXPECT_EQ(all.to_vector<float>(), expected);
    EXPECT_NE(all.raw_data(), t.raw_data());
    // One i64 per rank: how the exchanges share counts.
    const Tensor counts = comm.all_gather(Tensor::from_vector(std::vector<int64_t>{rank * 3}));
    std::vector<int64_t> expected_counts;
    for (int r = 0; r < world; ++r) expected_counts.push_back(r * 3);
    EXPECT_EQ(counts.to_vector<int64_t>(), expected_counts);
  });
}

TEST_P(ThreadCommunicator, ReduceScatterKeepsThisRanksRows) {
  const int world = GetParam();
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    // Rank r sends row i = r + i (world rows of one element); the sum of row i is world*i + sum r.
    std::vector<double> rows;
    for (int i = 0; i < 2 * world; ++i) rows.push_back(rank + i);
    const Tensor out = comm.reduce_scatter(Tensor::from_vector(rows, {2 * world, 1}));
    ASSERT_EQ(out.shape(), (Shape{2, 1}));
    const double ranks = world * (world - 1) / 2.0;
    EXPECT_EQ(out.to_vector<double>(), (std::vector<double>{world * (2.0 * rank) + ranks,
                                                            world * (2.0 * rank + 1) + ranks}));
    const Tensor top = comm.reduce_scatter(Tensor::from_vector(rows, {2 * world, 1}), ReduceOp::max);
    EXPECT_EQ(top.to_vector<double>(), (std::vector<double>{2.0 * rank + world - 1, 2.0 * rank + world}));
  });
}

// Rank r sends (r + j) % 3 rows to rank j (zero rows included), each row (r, j, k).
TEST_P(ThreadCommunicator, AllToAllVRoutesUnevenCounts) {
  const int world = GetParam();
  auto count = [](int from, int to) { return static_cast<int64_t>((from + to) % 3); };
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    std::vector<int64_t> values, send_rows;
    for (int j = 0; j < world; ++j) {
      send_rows.push_back(count(rank, j));
      for (int64_t k = 0; k < count(rank, j); ++k)
        for (int64_t v : {int64_t{rank}, int64_t{j}, k}) values.push_back(v);
    }
    const Tensor send = Tensor::from_vector(values, {static_cast<int64_t>(values.size() / 3), 3});
    const auto got = comm.all_to_all_v(send, send_rows);
    std::vector<int64_t> expected, from;
    for (int r = 0; r < world; ++r) {
      from.push_back(count(r, rank));
      for (int64_t k = 0; k < count(r, rank); ++k)
        for (int64_t v : {int64_t{r}, int64_t{rank}, k}) expected.push_back(v);
    }
    EXPECT_EQ(got.rows_from, from);
    ASSERT_EQ(got.rows.shape(), (Shape{static_cast<int64_t>(expected.size() / 3), 3}));
    EXPECT_EQ(got.rows.to_vector<int64_t>(), expected);
    // Nothing at all to send is legal too.
    const auto none = comm.all_to_all_v(Tensor::zeros({0, 4}), std::vector<int64_t>(static_cast<size_t>(world), 0));
    EXPECT_EQ(none.rows.shape(), (Shape{0, 4}));
    EXPECT_EQ(none.rows_from, std::vector<int64_t>(static_cast<size_t>(world), 0));
  });
}

TEST_P(ThreadCommunicator, RejectsBadArgumentsOnEveryRank) {
  const int world = GetParam();
  run_ranks(world, [&](int rank, dist::Communicator& comm) {
    Tensor t = rank_tensor(rank);
    EXPECT_NE(error_message([&] { comm.broadcast(t, world); }).find("root " + std::to_string(world)),
              std::string::npos);
    EXPECT_NE(error_message([&] { comm.all_to_all_v(t, std::vector<int64_t>(static_cast<size_t>(world) + 1, 0)); }).find("send_rows lists"), std::string::npos);
    std::vector<int64_t> wrong(static_cast<size_t>(world), 0);
    wrong[0] = 1;
    EXPECT_NE(error_message([&] { comm.all_to_all_v(t, wrong); }).find("sum to 1 but send has 2 rows"),
              std::string::npos);
    EXPECT_NE(error_message([&] { comm.all_gather(Tensor::scalar(1.0f)); }).find("leading axis"), std::string::npos);
    if (world > 1) {
      EXPECT_NE(error_message([&] { comm.reduce_scatter(Tensor::zeros({world + 1})); }).find("world * n"),
                std::string::npos);
      // Shapes that disagree between ranks are caught on every rank, after the rendezvous.
      Tensor mine = Tensor::zeros({rank + 1});
      const std::string e = error_message([&] { comm.all_reduce(mine); });
      EXPECT_NE(e.find("shape must agree"), std::string::npos) << e;
      const std::string d = error_message([&] { comm.all_gather(Tensor::zeros({1}, rank == 0 ? DType::f32 : DType::f64)); });
      EXPECT_NE(d.find("dtype and shape"), std::string::npos) << d;
    }
    comm.barrier();  // still usable after rejected calls
    Tensor ok = rank_tensor(rank);
    comm.all_reduce(ok, ReduceOp::max);
    EXPECT_EQ(ok.to_vector<float>(), rank_tensor(world - 1).to_vector<float>());
  });
}

TEST_P(ThreadCommunicator, AFailingRankStopsTheOthersAndItsErrorIsRethrown) {
  const int world = GetParam();
  const std::string e = error_message([&] {
    run_ranks(world, [&](int rank, dist::Communicator& comm) {
      if (rank == world - 1) throw Error("rank " + std::to_string(rank) + " broke");
      Tensor t = rank_tensor(rank);
      comm.all_reduce(t);  // would wait forever for the failed rank
      comm.barrier();
    });
  });
  EXPECT_EQ(e, "rank " + std::to_string(world - 1) + " broke");
}

INSTANTIATE_TEST_SUITE_P(Worlds, ThreadCommunicator, ::testing::Values(1, 2, 3, 4));

TEST(ThreadCommunicatorSetup, RejectsAnEmptyWorldAndCudaTensors) {
  EXPECT_NE(error_message([] { make_thread_communicators(0); }).find("at least 1"), std::string::npos);
  auto comms = make_thread_communicators(1);
  EXPECT_EQ(comms.size(), 1u);
  if (cuda::is_available()) {
    Tensor t = Tensor::zeros({2}, DType::f32, Device::cuda(0));
    EXPECT_NE(error_message([&] { comms[0]->all_reduce(t); }).find("CPU tensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace aisle::testing
