// The CUDA sampling kernels: grid-stride loops over sampling_elements.h, with 32-bit indices
// whenever every index of the call fits (cheaper divisions), 64-bit otherwise.
#include "kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sampling_elements.h"

namespace equiconv {
namespace cuda {
namespace {

// One GPU thread per element of `total`, in a grid-stride loop: thread(i) does element i.
template <typename index_t, typename Thread>
__global__ void __launch_bounds__(kThreads) for_each_element(index_t total, Thread thread) {
  for (index_t i = blockIdx.x * index_t(blockDim.x) + threadIdx.x; i < total;
       i += index_t(blockDim.x) * gridDim.x) {
    thread(i);
  }
}

// Thread i of kernel Kind (Im2col or Col2im, sampling_elements.h), as a functor.
template <typename Kind, typename scalar_t, typename acc_t, typename index_t>
struct Thread {
  const scalar_t* src;
  scalar_t* dst;
  PlanView<acc_t> plan;
  index_t channels, images;
  __device__ void operator()(index_t i) const {
    Kind::template run<scalar_t, acc_t, index_t>(i, src, dst, plan, channels, images);
  }
};

void check_launch(const char* name) {
  const cudaError_t error = cudaGetLastError();
  if (error != cudaSuccess) {
    throw std::runtime_error(std::string("equiconv: launch of ") + name +
                             " failed: " + cudaGetErrorString(error));
  }
}

int64_t blocks_for(int64_t total) { return std::min((total + kThreads - 1) / kThreads, kMaxBlocks); }

template <typename Kind, typename scalar_t, typename acc_t>
void launch(const scalar_t* src, scalar_t* dst, const PlanView<acc_t>& plan, int64_t channels,
            int64_t images, cudaStream_t stream, const char* name) {
  const int64_t total = Kind::threads(plan, channels, images);
  if (total == 0) return;
  with_index_type(plan, channels, images, [&](auto index) {
    using index_t = decltype(index);
    for_each_element<<<blocks_for(total), kThreads, 0, stream>>>(
        index_t(total), Thread<Kind, scalar_t, acc_t, index_t>{src, dst, plan, index_t(channels), index_t(images)});
  });
  check_launch(name);
}

}  // namespace

template <typename scalar_t, typename acc_t>
void im2col(const scalar_t* input, scalar_t* columns, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, cudaStream_t stream) {
  launch<Im2col>(input, columns, plan, channels, images, stream, "im2col");
}

template <typename scalar_t, typename acc_t>
void col2im(const scalar_t* columns, scalar_t* grad_input, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, cudaStream_t stream) {
  launch<Col2im>(columns, grad_input, plan, channels, images, stream, "col2im");
}

#define EQUICONV_INSTANTIATE(scalar_t, acc_t)                                                  \
  template void im2col<scalar_t, acc_t>(const scalar_t*, scalar_t*, const PlanView<acc_t>&,     \
                                        int64_t, int64_t, cudaStream_t);                        \
  template void col2im<scalar_t, acc_t>(const scalar_t*, scalar_t*, const PlanView<acc_t>&,     \
                                        int64_t, int64_t, cudaStream_t);

EQUICONV_INSTANTIATE(float, float)
EQUICONV_INSTANTIATE(double, double)
EQUICONV_INSTANTIATE(__half, float)
EQUICONV_INSTANTIATE(__nv_bfloat16, float)

}  // namespace cuda
}  // namespace equiconv
