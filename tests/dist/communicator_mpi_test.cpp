// The MPI backend on real ranks: ctest runs this binary under `mpirun -np 2` and `-np 4`; every
// rank runs every test, so each test is itself a collective program. Results are checked against
// what the ranks' inputs say they must be, including the promised rank order of sums.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "aisle/dist/communicator.hpp"
#include "support/testing.hpp"

namespace aisle::dist {
namespace {

std::unique_ptr<Communicator> world_comm(double timeout_s = 60) { return make_mpi_communicator(timeout_s); }

TEST(MpiCommunicator, RankAndWorldMatchTheLauncher) {
  auto comm = world_comm();
  const LaunchInfo launch = detect_launch();
  EXPECT_EQ(comm->backend(), "mpi");
  EXPECT_EQ(comm->rank(), launch.rank);
  EXPECT_EQ(comm->world_size(), launch.world);
  EXPECT_EQ(launch.launcher, "mpirun");
  EXPECT_GE(comm->world_size(), 2);
}

TEST(MpiCommunicator, AllReduceSumsMaxesAndMins) {
  auto comm = world_comm();
  const int r = comm->rank(), w = comm->world_size();
  // 7 elements: the per-rank slices of the reduce-scatter are uneven (and empty for some ranks at w = 8).
  std::vector<float> mine(7);
  for (int i = 0; i < 7; ++i) mine[i] = static_cast<float>((r + 1) * (i + 1));
  Tensor t = Tensor::from_vector(mine);
  comm->all_reduce(t);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(t.to_vector<float>()[i], static_cast<float>(w * (w + 1) / 2 * (i + 1)));

  Tensor m = Tensor::from_vector(std::vector<int64_t>{r, -r, 5});
  comm->all_reduce(m, ReduceOp::max);
  EXPECT_EQ(m.to_vector<int64_t>(), (std::vector<int64_t>{w - 1, 0, 5}));
  Tensor n = Tensor::from_vector(std::vector<double>{static_cast<double>(r), 2.5});
  comm->all_reduce(n, ReduceOp::min);
  EXPECT_EQ(n.to_vector<double>(), (std::vector<double>{0.0, 2.5}));
  EXPECT_DOUBLE_EQ(comm->all_reduce_scalar(r + 0.5), w * w / 2.0);

  Tensor empty = Tensor::zeros({0, 3});
  comm->all_reduce(empty);
  EXPECT_EQ(empty.shape(), (Shape{0, 3}));
}

TEST(MpiCommunicator, SumsRunInRankOrder) {
  // In f32, (1e8 + 1) rounds back to 1e8: the order of additions decides the result, and the
  // backend promises rank 0 + rank 1 + rank 2 + ... on every rank.
  auto comm = world_comm();
  const int r = comm->rank(), w = comm->world_size();
  const float pattern[4] = {1e8f, 1.0f, -1e8f, 1.0f};
  float expected = pattern[0];
  for (int s = 1; s < w; ++s) expected += pattern[s % 4];
  Tensor t = Tensor::full({1000}, pattern[r % 4]);
  comm->all_reduce(t);
  for (const float v : t.to_vector<float>()) ASSERT_EQ(v, expected);
}

TEST(MpiCommunicator, BroadcastGatherAndReduceScatter) {
  auto comm = world_comm();
  const int r = comm->rank(), w = comm->world_size();
  const int root = w - 1;
  Tensor b = Tensor::from_vector(std::vector<int64_t>{r * 10, r * 10 + 1});
  comm->broadcast(b, root);
  EXPECT_EQ(b.to_vector<int64_t>(), (std::vector<int64_t>{root * 10, root * 10 + 1}));

  Tensor g = comm->all_gather(Tensor::from_vector(std::vector<float>{float(r), float(r) + 0.5f}, {1, 2}));
  ASSERT_EQ(g.shape(), (Shape{w, 2}));
  for (int s = 0; s < w; ++s) {
    EXPECT_EQ(g.to_vector<float>()[2 * s], float(s));
    EXPECT_EQ(g.to_vector<float>()[2 * s + 1], float(s) + 0.5f);
  }

  // Rank r's row j is r + 100 j: rank j keeps row j summed over ranks = sum(r) + 100 j w.
  std::vector<double> rows(static_cast<size_t>(w) * 3);
  for (int j = 0; j < w; ++j)
    for (int c = 0; c < 3; ++c) rows[j * 3 + c] = r + 100.0 * j + c;
  Tensor s = comm->reduce_scatter(Tensor::from_vector(rows, {w, 3}));
  ASSERT_EQ(s.shape(), (Shape{1, 3}));
  for (int c = 0; c < 3; ++c) EXPECT_EQ(s.to_vector<double>()[c], w * (w - 1) / 2.0 + w * (100.0 * r + c));
}

TEST(MpiCommunicator, AllToAllVWithUnevenAndEmptyCounts) {
  auto comm = world_comm();
  const int r = comm->rank(), w = comm->world_size();
  // Rank r sends (r + j) % 3 rows to rank j (some counts are 0); row k to j holds [r, j, k].
  std::vector<int64_t> counts(w), data;
  for (int j = 0; j < w; ++j) {
    counts[j] = (r + j) % 3;
    for (int64_t k = 0; k < counts[j]; ++k) data.insert(data.end(), {r, j, k});
  }
  const auto received = comm->all_to_all_v(Tensor::from_vector(data, {static_cast<int64_t>(data.size() / 3), 3}), counts);
  std::vector<int64_t> expected, expected_from(w);
  for (int s = 0; s < w; ++s) {
    expected_from[s] = (s + r) % 3;
    for (int64_t k = 0; k < expected_from[s]; ++k) expected.insert(expected.end(), {s, r, k});
  }
  EXPECT_EQ(received.rows_from, expected_from);
  EXPECT_EQ(received.rows.to_vector<int64_t>(), expected);
  comm->barrier();
}

TEST(MpiCommunicator, RanksThatDisagreeFailOnEveryRankAndCanGoOn) {
  auto comm = world_comm();
  const int r = comm->rank();
  // Rank 0 gathers [2, 3], the others [3, 3]: every rank throws, naming both calls.
  const Tensor t = Tensor::zeros({r == 0 ? 2 : 3, 3});
  const std::string message = testing::error_message([&] { comm->all_gather(t); });
  EXPECT_MESSAGE_HAS(message, "ranks disagree on a collective");
  EXPECT_MESSAGE_HAS(message, r == 0 ? "this rank called all_gather of f32 [2, 3]" : "this rank called all_gather of f32 [3, 3]");
  // The signatures were exchanged completely, so the communicator stays usable.
  EXPECT_DOUBLE_EQ(comm->all_reduce_scalar(1.0), comm->world_size());
  // A rank calling broadcast while the others all_reduce is caught the same way.
  Tensor x = Tensor::zeros({4});
  const std::string mixed = testing::error_message([&] {
    if (r == 0) comm->broadcast(x, 0);
    else comm->all_reduce(x);
  });
  EXPECT_MESSAGE_HAS(mixed, r == 0 ? "this rank called broadcast of f32 [4] from root 0" : "this rank called all_reduce");
  comm->barrier();
}

TEST(MpiCommunicator, RejectsBadArguments) {
  auto comm = world_comm();
  const int w = comm->world_size();
  Tensor t = Tensor::zeros({3});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { comm->broadcast(t, w); }), "is not a rank of a world of size");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { comm->all_to_all_v(t, {3}); }), "one count per rank");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { comm->reduce_scatter(Tensor::zeros({w + 1})); }),
                     "is not a multiple of the world size");
  EXPECT_MESSAGE_HAS(testing::error_message([] { make_mpi_communicator(0); }), "timeout must be positive");
}

}  // namespace
}  // namespace aisle::dist

// `communicator_mpi_test stuck-rank`: rank 0 waits in a barrier that rank 1 never joins; rank 0
// must give up after the 1 s timeout, say why, and end the job (ctest checks the message and the
// non-zero exit of mpirun, instead of a hang).
int stuck_rank_demo() {
  auto comm = aisle::dist::make_mpi_communicator(1.0);
  if (comm->rank() == 1) {
    std::this_thread::sleep_for(std::chrono::seconds(120));
    return 0;
  }
  try {
    comm->barrier();
  } catch (const aisle::dist::CollectiveTimeout& e) {
    std::fprintf(stderr, "aisle: %s\n", e.what());
    aisle::dist::abort_job(3);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "stuck-rank") == 0) return stuck_rank_demo();
  aisle::set_poison_uninitialized(true);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
