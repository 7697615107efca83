// A checked convolution call: geometry plus batch, channel and group sizes.
#pragma once

#include <ATen/core/Tensor.h>

#include "geometry.h"

namespace equiconv {

struct Layer {
  GeometryParams p;
  int64_t batch, in_channels, out_channels, groups;

  int64_t k_group() const { return in_channels / groups * p.taps(); }  // GEMM depth per group
  int64_t out_group() const { return out_channels / groups; }
};

// Checks ranks, dtypes, devices, channels, groups and geometry; throws naming the argument.
Layer check_layer(const at::Tensor& input, const at::Tensor& weight, c10::IntArrayRef stride,
                  c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
                  c10::ArrayRef<double> lat_range, double lon_span);

namespace cpu {
// Contiguous float32/float64 tensors; out and the gradients are preallocated.
void forward(const Layer& l, const at::Tensor& input, const at::Tensor& weight, at::Tensor& out);
void backward(const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
              const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight);
}  // namespace cpu

#ifdef WITH_CUDA
namespace cuda {
// Contiguous CUDA tensors of float32/float64/float16/bfloat16; as cpu:: otherwise.
void forward(const Layer& l, const at::Tensor& input, const at::Tensor& weight, at::Tensor& out);
void backward(const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
              const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight);
}  // namespace cuda
#endif

}  // namespace equiconv
