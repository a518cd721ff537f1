// The NCCL backend on one GPU (world size 1, no launcher, so no MPI): every collective runs
// through NCCL and must give the identity, on device tensors and on host tensors it stages. Skips
// without a GPU; several GPUs are exercised only by `mpirun -np N` jobs on a multi-GPU machine.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "aisle/device/cuda.hpp"
#include "aisle/dist/communicator.hpp"
#include "support/testing.hpp"

namespace aisle::dist {
namespace {

TEST(NcclCommunicatorCuda, WorldOfOneRunsEveryCollective) {
  AISLE_SKIP_WITHOUT_CUDA();
  std::unique_ptr<Communicator> comm;
  try {
    comm = make_nccl_communicator(Device::cuda(0), 60);
  } catch (const Error& e) {
    // A CUDA build without OpenMPI compiles no NCCL backend: nothing to check, not a failure.
    if (std::string(e.what()).find("has no NCCL") != std::string::npos) GTEST_SKIP() << e.what();
    throw;
  }
  EXPECT_EQ(comm->backend(), "nccl");
  EXPECT_EQ(comm->world_size(), 1);
  const std::vector<float> values{1, 2, 3, 4, 5, 6};
  Tensor t = Tensor::from_vector(values, {3, 2}).to(Device::cuda(0));
  comm->all_reduce(t);
  comm->broadcast(t, 0);
  EXPECT_EQ(t.to(Device::cpu()).to_vector<float>(), values);
  const Tensor gathered = comm->all_gather(t);
  const Tensor scattered = comm->reduce_scatter(t);
  const auto received = comm->all_to_all_v(t, {3});
  for (const Tensor* out : {&gathered, &scattered, &received.rows}) {
    EXPECT_TRUE(out->is_cuda());
    EXPECT_EQ(out->to(Device::cpu()).to_vector<float>(), values);
  }
  EXPECT_EQ(received.rows_from, std::vector<int64_t>{3});
  // Host tensors (scalars and counters) are staged through the GPU and come back on the host.
  EXPECT_DOUBLE_EQ(comm->all_reduce_scalar(2.5), 2.5);
  const Tensor host = comm->all_gather(Tensor::from_vector(std::vector<int64_t>{7, 8}));
  EXPECT_FALSE(host.is_cuda());
  EXPECT_EQ(host.to_vector<int64_t>(), (std::vector<int64_t>{7, 8}));
  comm->barrier();
}

TEST(NcclCommunicatorCuda, RefusesTheHostDevice) {
  EXPECT_MESSAGE_HAS(testing::error_message([] { make_nccl_communicator(Device::cpu(), 60); }), "CUDA device");
}

}  // namespace
}  // namespace aisle::dist
