// Launchers of the pooling kernels: raw pointers and a stream, no torch types, so that kernels.cu
// compiles with nvcc alone. Instantiated for (float, float), (double, double), (__half, float) and
// (__nv_bfloat16, float): storage type, accumulation type. Each queues one kernel; the caller
// checks it with C10_CUDA_KERNEL_LAUNCH_CHECK (cuda.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../../plan_view.h"

namespace equiconv {
namespace cuda {

// out[planes, out_h, out_w] (and winners, for max; nullptr for the mean) from input[planes, H, W].
template <typename scalar_t, typename acc_t>
void pool_forward(const scalar_t* input, scalar_t* out, int64_t* winners, const PlanView<acc_t>& plan,
                  int64_t planes, cudaStream_t stream);

// grad_input[planes, H, W] (overwritten) from grad_output[planes, out_h, out_w].
template <typename scalar_t, typename acc_t>
void pool_backward(const scalar_t* grad_output, const int64_t* winners, scalar_t* grad_input,
                   const PlanView<acc_t>& plan, int64_t planes, cudaStream_t stream);

}  // namespace cuda
}  // namespace equiconv
