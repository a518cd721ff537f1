#include <gtest/gtest.h>

#include "aisle/tensor/tensor.hpp"

int main(int argc, char** argv) {
  // Every Tensor::empty is filled with NaN / sentinel ids, so an op that leaves an element
  // unwritten produces garbage the assertions see, instead of a lucky zero.
  aisle::set_poison_uninitialized(true);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
