// Tensor-level sampling steps of the operator, one implementation per device.
#pragma once

#include <ATen/core/Tensor.h>

#include "geometry.h"

namespace equiconv {

// Accumulation dtype used for interpolation weights and gradient buffers.
inline c10::ScalarType accumulation_dtype(c10::ScalarType t) {
  return t == c10::kDouble ? c10::kDouble : c10::kFloat;
}

namespace cpu {
// columns (B, C * taps, out_h * out_w) <- images (B, C, H, W); both contiguous.
void images_to_columns(const at::Tensor& images, at::Tensor& columns, const SamplingPlan& plan,
                       const GeometryParams& p);
// grad_images (B, C, H, W), accumulation dtype, overwritten <- adjoint of images_to_columns.
void columns_to_images(const at::Tensor& grad_columns, at::Tensor& grad_images,
                       const SamplingPlan& plan, const GeometryParams& p);
}  // namespace cpu

}  // namespace equiconv
