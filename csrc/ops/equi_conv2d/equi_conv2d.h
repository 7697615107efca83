// equi_conv2d's entry points, one template over the backend (Cpu, Cuda), bound per dispatch key
// in register.cpp.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <optional>
#include <tuple>

#include "layer.h"

namespace equiconv {

template <typename Backend>
at::Tensor equi_conv2d_forward(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span);

// Gradients not asked for in output_mask come back as empty tensors.
template <typename Backend>
std::tuple<at::Tensor, at::Tensor, at::Tensor> equi_conv2d_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span, std::array<bool, 3> output_mask);

// Autocast: runs the operator on its inputs cast to the autocast dtype of `device`.
template <c10::DeviceType device>
at::Tensor equi_conv2d_autocast(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span);

}  // namespace equiconv
