// A checked pooling call and the kernels of each backend (cpu.cpp; cuda.cpp over kernels.cu).
// A window is the kernel's tangent-plane taps, each a bilinear sample under the boundary rules
// (what an equi_conv2d tap reads), reduced by max (with the winning tap's index, for the
// gradient) or by the mean over the taps.
#pragma once

#include <ATen/core/Tensor.h>

#include "../../backend.h"
#include "../../geometry.h"

namespace equiconv {

enum class Reduce { kMax, kMean };

struct Pool {
  GeometryParams p;
  int64_t batch, channels;
  Reduce reduce;

  int64_t planes() const { return batch * channels; }
};

// out (batch, channels, out_h, out_w) and, for kMax, indices (same shape, int64: the winning tap,
// the first in row-major order on ties, NaN winning over numbers) from contiguous input in the
// compute dtype.
void pool2d_forward(Cpu, const Pool& pool, const at::Tensor& input, at::Tensor& out, at::Tensor* indices);
void pool2d_forward(Cuda, const Pool& pool, const at::Tensor& input, at::Tensor& out, at::Tensor* indices);

// grad_input (batch, channels, H, W), overwritten: the adjoint of forward's sampling, through the
// winning tap's bilinear corners (kMax; indices given) or every tap's weighted by 1/taps (kMean).
void pool2d_backward(Cpu, const Pool& pool, const at::Tensor& grad_output, const at::Tensor* indices,
                     at::Tensor& grad_input);
void pool2d_backward(Cuda, const Pool& pool, const at::Tensor& grad_output, const at::Tensor* indices,
                     at::Tensor& grad_input);

}  // namespace equiconv
