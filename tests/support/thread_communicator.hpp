#pragma once
// In-process ranks for tests of multi-rank code: `world` Communicators that talk through shared
// memory, one per thread. Collectives take CPU tensors, check their arguments as the interface
// documents, and reduce in rank order, so results are deterministic and equal on every rank.
#include <functional>
#include <memory>
#include <vector>

#include "aisle/dist/communicator.hpp"

namespace aisle::testing {

// Communicators of ranks 0..world-1 of one job; each must be used by its own thread. When one is
// aborted (abort_thread_communicators, or run_ranks after a rank threw), every collective that
// waits or is entered afterwards throws aisle::Error instead of waiting for the missing rank.
std::vector<std::unique_ptr<dist::Communicator>> make_thread_communicators(int world);
void abort_thread_communicators(dist::Communicator& any_of_them);

// Runs fn(rank, comm) on `world` threads and joins them; rethrows the first exception a rank threw
// (by time of throwing), after the other ranks have stopped.
void run_ranks(int world, const std::function<void(int rank, dist::Communicator& comm)>& fn);

}  // namespace aisle::testing
