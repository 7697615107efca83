// The one CUDA launcher every operator's kernels go through: a grid-stride loop of GPU threads,
// each running thread i of a Kind (an op's elements.h: `threads(plan, channels, images)` and
// `run<scalar_t, acc_t, index_t>(i, src, dst, plan, channels, images)`), with 32-bit indices
// whenever every index of the call fits (cheaper divisions), 64-bit otherwise.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>

#include "sampling_elements.h"

// M(storage type, accumulation type) for every dtype the kernels take: what each op's kernels.cu
// instantiates its launchers for.
#define EQUICONV_FOR_EACH_CUDA_TYPE(M) M(float, float) M(double, double) M(__half, float) M(__nv_bfloat16, float)

namespace equiconv {
namespace cuda {

// One GPU thread per element of `total`, in a grid-stride loop: thread(i) does element i.
template <typename index_t, typename Thread>
__global__ void __launch_bounds__(kThreads) for_each_element(index_t total, Thread thread) {
  for (index_t i = blockIdx.x * index_t(blockDim.x) + threadIdx.x; i < total;
       i += index_t(blockDim.x) * gridDim.x) {
    thread(i);
  }
}

// Thread i of a Kind, as a functor.
template <typename Kind, typename scalar_t, typename acc_t, typename index_t>
struct Thread {
  Kind kind;
  const scalar_t* src;
  scalar_t* dst;
  PlanView<acc_t> plan;
  index_t channels, images;
  __device__ void operator()(index_t i) const {
    kind.template run<scalar_t, acc_t, index_t>(i, src, dst, plan, channels, images);
  }
};

inline int64_t blocks_for(int64_t total) { return std::min((total + kThreads - 1) / kThreads, kMaxBlocks); }

// Queues the kernel; the caller (each op's cuda.cpp, which has torch's headers) checks the launch
// with C10_CUDA_KERNEL_LAUNCH_CHECK right after, so that this file compiles with nvcc alone.
template <typename Kind, typename scalar_t, typename acc_t>
void launch(const Kind& kind, const scalar_t* src, scalar_t* dst, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, cudaStream_t stream) {
  const int64_t total = kind.threads(plan, channels, images);
  if (total == 0) return;
  with_index_type(plan, channels, images, [&](auto index) {
    using index_t = decltype(index);
    for_each_element<<<blocks_for(total), kThreads, 0, stream>>>(
        index_t(total),
        Thread<Kind, scalar_t, acc_t, index_t>{kind, src, dst, plan, index_t(channels), index_t(images)});
  });
}

}  // namespace cuda
}  // namespace equiconv
