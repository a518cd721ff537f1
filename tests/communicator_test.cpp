// The local (world size 1) backend: the identity for every collective, with the argument checks
// the multi-rank backends make, and results that never alias their inputs.
#include "aisle/dist/communicator.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace aisle::dist
