// Launchers of the CUDA sampling kernels: raw pointers and a stream, no torch types, so that
// kernels.cu compiles with nvcc alone. Instantiated for (float, float), (double, double),
// (__half, float) and (__nv_bfloat16, float): storage type, accumulation type. Each queues one
// kernel; the caller checks it with C10_CUDA_KERNEL_LAUNCH_CHECK (cuda.cpp).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../../plan_view.h"

namespace equiconv {
namespace cuda {

// columns[channels * taps, images, (row_end - row_begin) * out_w] <- spherical im2col of
// input[images, channels, H, W] for output rows [row_begin, row_end).
template <typename scalar_t, typename acc_t>
void im2col(const scalar_t* input, scalar_t* columns, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, int64_t row_begin, int64_t row_end, cudaStream_t stream);

// grad_input[images, channels, H, W] <- adjoint of the im2col of output rows [row_begin, row_end)
// applied to columns (overwrites).
template <typename scalar_t, typename acc_t>
void col2im(const scalar_t* columns, scalar_t* grad_input, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, int64_t row_begin, int64_t row_end, cudaStream_t stream);

}  // namespace cuda
}  // namespace equiconv
