// A checked convolution call (geometry plus batch, channel and group sizes) and the kernels of
// each backend: cpu.cpp, and cuda.cpp over driver.h and kernels.cu. equi_conv_transpose2d
// runs the same kernels (it is this op's adjoint in its input).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include "../../backend.h"
#include "../../geometry.h"

namespace equiconv {

struct Layer {
  GeometryParams p;
  int64_t batch, in_channels, out_channels, groups;

  int64_t k_group() const { return in_channels / groups * p.taps(); }  // GEMM depth per group
  int64_t out_group() const { return out_channels / groups; }
};

// input and weight: a 4-D floating input, a weight of its device and dtype, one the backend
// computes in; throws naming the argument.
template <typename Backend>
void check_operands(const at::Tensor& input, const at::Tensor& weight) {
  check_image(input, "input");
  TORCH_CHECK_TYPE(weight.scalar_type() == input.scalar_type(), "weight dtype ",
                   weight.scalar_type(), " differs from input dtype ", input.scalar_type());
  TORCH_CHECK(weight.device() == input.device(), "weight is on ", weight.device(),
              " but input is on ", input.device());
  require_dtype(Backend{}, input, "input");
}

// Checks the weight and groups against an input of (batch, in_channels, height, width) and the
// geometry; throws naming the argument.
Layer check_layer(at::IntArrayRef input_sizes, const at::Tensor& weight, c10::IntArrayRef stride,
                  c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
                  c10::ArrayRef<double> lat_range, double lon_span);

// Contiguous tensors in the backend's compute dtype; out and the gradients preallocated.
// forward's bias (out_channels) may be undefined. backward's input may be undefined when no
// grad_weight is asked for (only its shape counts).
void conv2d_forward(Cpu, const Layer& l, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                    at::Tensor& out);
void conv2d_backward(Cpu, const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
                     const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight);
void conv2d_forward(Cuda, const Layer& l, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                    at::Tensor& out);
void conv2d_backward(Cuda, const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
                     const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight);

// The grad-input half of backward, on either backend: grad_input (batch, in_channels, H, W),
// in the compute dtype of grad_output, of the convolution whose output gradient is grad_output.
template <typename Backend>
at::Tensor conv2d_grad_input(const Layer& l, const at::Tensor& grad_output, const at::Tensor& weight);

}  // namespace equiconv
