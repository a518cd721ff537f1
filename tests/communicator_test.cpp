// The local (world size 1) backend: the identity for every collective, with the argument checks
// the multi-rank backends make, and results that never alias their inputs.
#include "aisle/dist/communicator.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/testing.hpp"

namespace aisle::dist {
namespace {

TEST(LocalCommunicator, IsRankZeroOfOne) {
  auto comm = make_local_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->world_size(), 1);
  EXPECT_EQ(comm->backend(), "local");
  EXPECT_DOUBLE_EQ(comm->all_reduce_scalar(2.5), 2.5);
  EXPECT_DOUBLE_EQ(comm->all_reduce_scalar(-1.0, ReduceOp::max), -1.0);
  comm->barrier();
}

TEST(LocalCommunicator, CollectivesAreTheIdentityOnCopies) {
  auto comm = make_local_communicator();
  Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
  comm->all_reduce(t);
  comm->broadcast(t, 0);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));

  Tensor gathered = comm->all_gather(t);
  Tensor scattered = comm->reduce_scatter(t);
  auto received = comm->all_to_all_v(t, {3});
  for (Tensor* out : {&gathered, &scattered, &received.rows}) {
    EXPECT_EQ(out->shape(), t.shape());
    EXPECT_EQ(out->to_vector<float>(), t.to_vector<float>());
    EXPECT_NE(out->raw_data(), t.raw_data());
  }
  EXPECT_EQ(received.rows_from, std::vector<int64_t>{3});
}

TEST(LocalCommunicator, RejectsArgumentsNoWorldCouldAccept) {
  auto comm = make_local_communicator();
  Tensor t = Tensor::from_vector(std::vector<float>{1, 2, 3});
  EXPECT_MESSAGE_HAS(testing::error_message([&] { comm->broadcast(t, 1); }), "root 1 is not a rank");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { comm->all_to_all_v(t, {2}); }), "summing to send.size(0) = 3");
  EXPECT_MESSAGE_HAS(testing::error_message([&] { comm->all_to_all_v(t, {1, 2}); }), "one count per rank");
}

// Sets environment variables for one test and restores what was there before.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::string>> vars) {
    for (auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
      setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, old] : saved_) {
      if (old) setenv(name.c_str(), old->c_str(), 1);
      else unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(DetectLaunch, ReadsMpirunPmiAndSrunAndPrefersMpirun) {
  const ScopedEnv none({{"OMPI_COMM_WORLD_RANK", ""}, {"PMI_RANK", ""}, {"SLURM_PROCID", ""}});
  EXPECT_EQ(detect_launch().world, 1);
  EXPECT_EQ(detect_launch().launcher, "none");
  {
    const ScopedEnv srun({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "1"}});
    const LaunchInfo info = detect_launch();
    EXPECT_EQ(info.launcher, "srun");
    EXPECT_EQ(info.rank, 5);
    EXPECT_EQ(info.world, 16);
    EXPECT_EQ(info.local_rank, 1);
    // `srun ... mpirun`: the inner launcher's numbers count.
    const ScopedEnv mpirun({{"OMPI_COMM_WORLD_RANK", "2"}, {"OMPI_COMM_WORLD_SIZE", "4"},
                            {"OMPI_COMM_WORLD_LOCAL_RANK", "2"}});
    EXPECT_EQ(detect_launch().launcher, "mpirun");
    EXPECT_EQ(detect_launch().rank, 2);
    EXPECT_EQ(detect_launch().world, 4);
  }
  {
    const ScopedEnv pmi({{"PMI_RANK", "1"}, {"PMI_SIZE", "3"}});
    EXPECT_EQ(detect_launch().launcher, "pmi");
    EXPECT_EQ(detect_launch().world, 3);
    EXPECT_EQ(detect_launch().local_rank, 0);
  }
  // Nonsense is ignored rather than trusted: a rank outside the world, or not a number.
  const ScopedEnv bad({{"SLURM_PROCID", "7"}, {"SLURM_NTASKS", "4"}, {"PMI_RANK", "x"}, {"PMI_SIZE", "2"}});
  EXPECT_EQ(detect_launch().launcher, "none");
}

TEST(MakeCommunicator, PicksLocalForOneProcessAndRejectsBadChoices) {
  const ScopedEnv none({{"OMPI_COMM_WORLD_RANK", ""}, {"PMI_RANK", ""}, {"SLURM_PROCID", ""}});
  EXPECT_EQ(make_communicator("auto", Device::cpu(), 60)->backend(), "local");
  EXPECT_EQ(make_communicator("local", Device::cpu(), 60)->backend(), "local");
  EXPECT_MESSAGE_HAS(testing::error_message([] { make_communicator("nccl", Device::cpu(), 60); }),
                     "dist.backend nccl needs a CUDA device");
  EXPECT_MESSAGE_HAS(testing::error_message([] { make_communicator("gloo", Device::cpu(), 60); }),
                     "expected auto, local, mpi or nccl");
}

}  // namespace
}  // namespace aisle::dist
