// The operator: forward and backward, written once for every device (sampling steps are
// per device, the GEMMs are ATen's).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <optional>
#include <tuple>
#include <vector>

namespace equiconv {

at::Tensor equi_conv2d_forward(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span);

// Autocast: runs the operator on its inputs cast to the autocast dtype of `device`.
template <c10::DeviceType device>
at::Tensor equi_conv2d_autocast(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span);

// Gradients not asked for in output_mask come back as empty tensors.
std::tuple<at::Tensor, at::Tensor, at::Tensor> equi_conv2d_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span, std::array<bool, 3> output_mask);

std::tuple<at::Tensor, at::Tensor> sampling_grid(
    int64_t height, int64_t width, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
    double lon_span);

// The cached sampling plan (float64, CPU): [ext_h, ext_w] followed by SamplingPlan::tables().
std::vector<at::Tensor> sampling_plan_tables(
    int64_t height, int64_t width, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
    double lon_span);

}  // namespace equiconv
