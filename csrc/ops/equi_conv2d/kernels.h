// Launchers of the CUDA sampling kernels: raw pointers and a stream, no torch types, so that
// kernels.cu compiles with nvcc alone. Instantiated for (float, float), (double, double),
// (__half, float) and (__nv_bfloat16, float): storage type, accumulation type.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "../../plan_view.h"

namespace equiconv {
namespace cuda {

// columns[channels * taps, images, out_h * out_w] <- spherical im2col of input[images, channels, H, W].
template <typename scalar_t, typename acc_t>
void im2col(const scalar_t* input, scalar_t* columns, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, cudaStream_t stream);

// grad_input[images, channels, H, W] <- adjoint of im2col applied to columns (overwrites).
template <typename scalar_t, typename acc_t>
void col2im(const scalar_t* columns, scalar_t* grad_input, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, cudaStream_t stream);

}  // namespace cuda
}  // namespace equiconv
