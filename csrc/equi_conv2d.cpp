// Operator entry points: argument checks, dtype handling, bias, and dispatch to the device
// implementation (csrc/cpu, csrc/cuda).
#include "equi_conv2d.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/util/Exception.h>

#include "layer.h"

namespace equiconv {

Layer check_layer(const at::Tensor& input, const at::Tensor& weight, c10::IntArrayRef stride,
                  c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
                  c10::ArrayRef<double> lat_range, double lon_span) {
  TORCH_CHECK_VALUE(input.dim() == 4, "input must be 4-D (N, C, H, W), got ", input.dim(), "-D");
  TORCH_CHECK_VALUE(weight.dim() == 4, "weight must be 4-D (out, in/groups, kH, kW), got ",
                    weight.dim(), "-D");
  TORCH_CHECK_TYPE(input.is_floating_point(), "input must be floating point, got ",
                   input.scalar_type());
  TORCH_CHECK_TYPE(weight.scalar_type() == input.scalar_type(), "weight dtype ",
                   weight.scalar_type(), " differs from input dtype ", input.scalar_type());
  TORCH_CHECK(weight.device() == input.device(), "weight is on ", weight.device(),
              " but input is on ", input.device());
  TORCH_CHECK_VALUE(groups > 0, "groups must be positive, got ", groups);
  TORCH_CHECK_VALUE(weight.size(0) % groups == 0, "out_channels (", weight.size(0),
                    ") must be divisible by groups (", groups, ")");
  TORCH_CHECK_VALUE(input.size(1) == weight.size(1) * groups, "input has ", input.size(1),
                    " channels but weight expects ", weight.size(1) * groups,
                    " (in_channels/groups=", weight.size(1), " x groups=", groups, ")");
  return Layer{make_params(input.size(2), input.size(3), {weight.size(2), weight.size(3)}, stride,
                           padding, dilation, lat_range, lon_span),
               input.size(0), input.size(1), weight.size(0), groups};
}

namespace {

// The CPU kernels run in float32/float64 (bfloat16 goes through float32); the CUDA kernels
// take every floating type natively and accumulate in float32 or float64.
at::ScalarType compute_dtype(const at::Tensor& t) {
  if (t.is_cuda()) return t.scalar_type();
  return t.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

// What the kernels see: detached (their ATen calls, also on worker threads, must not record
// autograd history), contiguous (channels_last inputs too), in the compute dtype.
at::Tensor kernel_operand(const at::Tensor& t, at::ScalarType dtype) {
  return t.detach().to(dtype).contiguous();
}

// A kernel result in the input's dtype and, like nn.Conv2d, its suggested memory format
// (channels_last in, channels_last out); no copy when both already agree.
at::Tensor like_input(const at::Tensor& result, const at::Tensor& input) {
  return result.to(input.scalar_type(), /*non_blocking=*/false, /*copy=*/false,
                   input.suggest_memory_format());
}

void require_kernels(const at::Tensor& t) {
  if (t.is_cuda()) {
#ifdef WITH_CUDA
    TORCH_CHECK_TYPE(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble ||
                         t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16,
                     "input dtype ", t.scalar_type(), " is not supported by equiconv on CUDA "
                     "(float32, float64, float16, bfloat16)");
    return;
#else
    TORCH_CHECK(false, "equiconv was built without CUDA kernels; rebuild it on a machine with "
                "the CUDA toolkit and a CUDA build of torch to use ", t.device());
#endif
  }
  TORCH_CHECK(t.is_cpu(), "input is on ", t.device(), ", where equiconv has no kernels");
  TORCH_CHECK_TYPE(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble ||
                       t.scalar_type() == at::kBFloat16,
                   "input dtype ", t.scalar_type(), " is not supported by equiconv on CPU "
                   "(float32, float64, bfloat16)");
}

void device_forward(const Layer& l, const at::Tensor& input, const at::Tensor& weight, at::Tensor& out) {
#ifdef WITH_CUDA
  if (input.is_cuda()) return cuda::forward(l, input, weight, out);
#endif
  cpu::forward(l, input, weight, out);
}

void device_backward(const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
                     const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight) {
#ifdef WITH_CUDA
  if (input.is_cuda()) return cuda::backward(l, grad_output, input, weight, grad_input, grad_weight);
#endif
  cpu::backward(l, grad_output, input, weight, grad_input, grad_weight);
}

}  // namespace

at::Tensor equi_conv2d_forward(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span) {
  const Layer l = check_layer(input, weight, stride, padding, dilation, groups, lat_range, lon_span);
  const bool has_bias = bias.has_value() && bias->defined();
  if (has_bias) {
    TORCH_CHECK_VALUE(bias->dim() == 1 && bias->size(0) == l.out_channels,
                      "bias must have shape (", l.out_channels, "), got ", bias->sizes());
  }
  require_kernels(input);
  const auto dtype = compute_dtype(input);
  at::Tensor out = at::empty({l.batch, l.out_channels, l.p.out_h(), l.p.out_w()},
                             input.options().dtype(dtype));
  if (l.batch > 0 && l.out_channels > 0) {
    device_forward(l, kernel_operand(input, dtype), kernel_operand(weight, dtype), out);
    if (has_bias) out.add_(kernel_operand(*bias, dtype).view({1, -1, 1, 1}));
  }
  return like_input(out, input);
}

template <c10::DeviceType device>
at::Tensor equi_conv2d_autocast(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span) {
  const c10::impl::ExcludeDispatchKeyGuard no_autocast(
      at::autocast::get_autocast_dispatch_key_from_device_type(device));
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("equiconv::equi_conv2d", "")
                             .typed<decltype(equi_conv2d_forward)>();
  const auto dtype = at::autocast::get_autocast_dtype(device);
  return op.call(at::autocast::cached_cast(dtype, input, device),
                 at::autocast::cached_cast(dtype, weight, device),
                 at::autocast::cached_cast(dtype, bias, device), stride, padding, dilation, groups,
                 lat_range, lon_span);
}
template at::Tensor equi_conv2d_autocast<c10::DeviceType::CPU>(
    const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, c10::IntArrayRef,
    c10::IntArrayRef, c10::IntArrayRef, int64_t, c10::ArrayRef<double>, double);
template at::Tensor equi_conv2d_autocast<c10::DeviceType::CUDA>(
    const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, c10::IntArrayRef,
    c10::IntArrayRef, c10::IntArrayRef, int64_t, c10::ArrayRef<double>, double);

std::tuple<at::Tensor, at::Tensor, at::Tensor> equi_conv2d_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span, std::array<bool, 3> output_mask) {
  const Layer l = check_layer(input, weight, stride, padding, dilation, groups, lat_range, lon_span);
  TORCH_CHECK_VALUE(
      grad_output.sizes() == at::IntArrayRef({l.batch, l.out_channels, l.p.out_h(), l.p.out_w()}),
      "grad_output has shape ", grad_output.sizes(), ", expected the output's");
  require_kernels(input);
  const auto dtype = compute_dtype(input);
  const auto opts = input.options().dtype(dtype);
  const at::Tensor x = kernel_operand(input, dtype), w = kernel_operand(weight, dtype);
  const at::Tensor go = kernel_operand(grad_output, dtype);
  at::Tensor grad_input = output_mask[0] ? at::empty_like(x) : at::empty({0}, opts);
  at::Tensor grad_weight = output_mask[1] ? at::zeros_like(w) : at::empty({0}, opts);
  at::Tensor grad_bias = output_mask[2] ? go.sum({0, 2, 3}) : at::empty({0}, opts);
  if (l.batch > 0 && l.out_channels > 0) {
    device_backward(l, go, x, w, output_mask[0] ? &grad_input : nullptr,
                  output_mask[1] ? &grad_weight : nullptr);
  } else if (output_mask[0]) {
    grad_input.zero_();
  }
  const auto t = input.scalar_type();
  return {like_input(grad_input, input), grad_weight.to(t), grad_bias.to(t)};
}

std::tuple<at::Tensor, at::Tensor> sampling_grid(
    int64_t height, int64_t width, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
    double lon_span) {
  const GeometryParams p =
      make_params(height, width, kernel_size, stride, padding, dilation, lat_range, lon_span);
  RowTable t = row_table(p);
  const auto shape = std::vector<int64_t>{p.out_h(), p.kernel_h, p.kernel_w};
  auto f64 = at::TensorOptions().dtype(at::kDouble);
  return {at::from_blob(t.rows.data(), shape, f64).clone(),
          at::from_blob(t.cols.data(), shape, f64).clone()};
}

std::vector<at::Tensor> sampling_plan_tables(
    int64_t height, int64_t width, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
    double lon_span) {
  const GeometryParams p =
      make_params(height, width, kernel_size, stride, padding, dilation, lat_range, lon_span);
  const auto plan = sampling_plan(p, at::kCPU, at::kDouble);
  std::vector<at::Tensor> out{at::tensor({plan->ext_h, plan->ext_w}, at::kLong)};
  for (const auto& named : plan->tables()) out.push_back(named.second->clone());
  return out;
}

}  // namespace equiconv
