// Picking the backend: the launcher's environment says how many ranks there are before MPI is
// touched, so a plain `aisle train` never initialises MPI.
#include <cstdlib>
#include <string>

#include "aisle/core/error.hpp"
#include "aisle/dist/communicator.hpp"

namespace aisle::dist {
namespace {

bool read_int(const char* name, int& out) {
  const char* text = std::getenv(name);
  if (!text || !*text) return false;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*end != '\0' || v < 0) return false;
  out = static_cast<int>(v);
  return true;
}

}  // namespace

LaunchInfo detect_launch() {
  LaunchInfo info;
  struct Source {
    const char *launcher, *rank, *world, *local_rank;
  };
  // OpenMPI's mpirun first: under `srun --mpi=pmix mpirun` the inner launcher is the one that counts.
  const Source sources[] = {
      {"mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      {"pmi", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"},
      {"srun", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
  };
  for (const Source& s : sources) {
    int rank = 0, world = 0;
    if (!read_int(s.rank, rank) || !read_int(s.world, world) || world < 1 || rank >= world) continue;
    info.launcher = s.launcher;
    info.rank = rank;
    info.world = world;
    if (!read_int(s.local_rank, info.local_rank)) info.local_rank = 0;
    return info;
  }
  return info;
}

std::unique_ptr<Communicator> make_communicator(const std::string& backend, Device device, double timeout_s) {
  if (backend == "local") return make_local_communicator();
  if (backend == "mpi") return make_mpi_communicator(timeout_s);
  if (backend == "nccl") {
    AISLE_CHECK(device.is_cuda(), "dist.backend nccl needs a CUDA device (device: cuda or auto on a GPU machine); "
                "this run is on ", device.str(), ": use dist.backend mpi for CPU ranks");
    return make_nccl_communicator(device, timeout_s);
  }
  AISLE_CHECK(backend == "auto", "dist.backend '", backend, "': expected auto, local, mpi or nccl");
  if (detect_launch().world <= 1) return make_local_communicator();
  return device.is_cuda() ? make_nccl_communicator(device, timeout_s) : make_mpi_communicator(timeout_s);
}

}  // namespace aisle::dist
