# CMake glue for system packages only (Debian packages and /usr/local/cuda); no copied sources.

find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # SHA-256 of dataset and artifact files
find_package(LibLZMA REQUIRED)  # importers read .xz inputs directly
find_package(ZLIB REQUIRED)     # importers read .gz inputs directly
# Optional: the mpi (and nccl) dist backends use it when present. The C API through the C++
# compiler; the deprecated C++ bindings are skipped.
set(MPI_CXX_SKIP_MPICXX ON)
find_package(MPI QUIET COMPONENTS CXX)

# --- CUDA backend ----------------------------------------------------------------------------
set(AISLE_WITH_CUDA OFF)
if(NOT AISLE_CUDA STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    # CMake 3.25 predates nvcc's C++20 support; teach it the flag (nvcc >= 12 accepts it).
    if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
    find_package(CUDAToolkit REQUIRED)
    set(AISLE_WITH_CUDA ON)
  elseif(AISLE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "AISLE_CUDA=ON but no CUDA compiler was found (looked for nvcc on PATH and "
                        "/usr/local/cuda/bin/nvcc); install the CUDA toolkit or use -DAISLE_CUDA=OFF")
  endif()
endif()

if(AISLE_WITH_CUDA)
  # NCCL and cuDNN ship with the toolkit image but have no CMake config: wrap them as imported
  # targets so later layers (dist/, attention) can link them by name.
  find_library(AISLE_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
  find_path(AISLE_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  if(AISLE_NCCL_LIBRARY AND AISLE_NCCL_INCLUDE)
    add_library(aisle_nccl INTERFACE)
    target_link_libraries(aisle_nccl INTERFACE ${AISLE_NCCL_LIBRARY})
    target_include_directories(aisle_nccl INTERFACE ${AISLE_NCCL_INCLUDE})
  endif()
  find_library(AISLE_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
  find_path(AISLE_CUDNN_INCLUDE cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  if(AISLE_CUDNN_LIBRARY AND AISLE_CUDNN_INCLUDE)
    add_library(aisle_cudnn INTERFACE)
    target_link_libraries(aisle_cudnn INTERFACE ${AISLE_CUDNN_LIBRARY})
    target_include_directories(aisle_cudnn INTERFACE ${AISLE_CUDNN_INCLUDE})
  endif()
endif()

message(STATUS "aisle: CUDA backend ${AISLE_WITH_CUDA} (AISLE_CUDA=${AISLE_CUDA}, "
               "architectures ${CMAKE_CUDA_ARCHITECTURES}); MPI ${MPI_CXX_FOUND}; "
               "sanitizers ${AISLE_SANITIZE}")
