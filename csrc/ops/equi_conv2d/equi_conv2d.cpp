// Entry points of equi_conv2d, written once over the backend (register.cpp binds them per
// dispatch key): argument checks, dtype handling and bias around the backend's kernels.
#include "equi_conv2d.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "../../autocast.h"

namespace equiconv {

Layer check_layer(at::IntArrayRef input_sizes, const at::Tensor& weight, c10::IntArrayRef stride,
                  c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
                  c10::ArrayRef<double> lat_range, double lon_span) {
  TORCH_CHECK_VALUE(weight.dim() == 4, "weight must be 4-D (out, in/groups, kH, kW), got ",
                    weight.dim(), "-D");
  TORCH_CHECK_VALUE(groups > 0, "groups must be positive, got ", groups);
  TORCH_CHECK_VALUE(weight.size(0) % groups == 0, "out_channels (", weight.size(0),
                    ") must be divisible by groups (", groups, ")");
  TORCH_CHECK_VALUE(input_sizes[1] == weight.size(1) * groups, "input has ", input_sizes[1],
                    " channels but weight expects ", weight.size(1) * groups,
                    " (in_channels/groups=", weight.size(1), " x groups=", groups, ")");
  return Layer{make_params(input_sizes[2], input_sizes[3], {weight.size(2), weight.size(3)}, stride,
                           padding, dilation, lat_range, lon_span),
               input_sizes[0], input_sizes[1], weight.size(0), groups};
}

template <typename Backend>
at::Tensor equi_conv2d_forward(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span) {
  check_operands<Backend>(input, weight);
  const Layer l = check_layer(input.sizes(), weight, stride, padding, dilation, groups, lat_range, lon_span);
  const bool has_bias = bias.has_value() && bias->defined();
  if (has_bias) {
    TORCH_CHECK_VALUE(bias->dim() == 1 && bias->size(0) == l.out_channels,
                      "bias must have shape (", l.out_channels, "), got ", bias->sizes());
  }
  const auto dtype = compute_dtype(Backend{}, input);
  at::Tensor out = at::empty({l.batch, l.out_channels, l.p.out_h(), l.p.out_w()},
                             input.options().dtype(dtype));
  if (l.batch > 0 && l.out_channels > 0) {
    conv2d_forward(Backend{}, l, kernel_operand(input, dtype), kernel_operand(weight, dtype),
                   has_bias ? kernel_operand(*bias, dtype) : at::Tensor(), out);
  }
  return like_input(out, input);
}

template <c10::DeviceType device>
at::Tensor equi_conv2d_autocast(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span) {
  return autocast_call<device, decltype(equi_conv2d_forward<Cpu>)>(
      "equiconv::equi_conv2d", input, weight, bias, stride, padding, dilation, groups, lat_range, lon_span);
}

template <typename Backend>
std::tuple<at::Tensor, at::Tensor, at::Tensor> equi_conv2d_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
    c10::ArrayRef<double> lat_range, double lon_span, std::array<bool, 3> output_mask) {
  check_operands<Backend>(input, weight);
  const Layer l = check_layer(input.sizes(), weight, stride, padding, dilation, groups, lat_range, lon_span);
  TORCH_CHECK_VALUE(
      grad_output.sizes() == at::IntArrayRef({l.batch, l.out_channels, l.p.out_h(), l.p.out_w()}),
      "grad_output has shape ", grad_output.sizes(), ", expected the output's");
  const auto dtype = compute_dtype(Backend{}, input);
  const auto opts = input.options().dtype(dtype);
  const at::Tensor x = kernel_operand(input, dtype), w = kernel_operand(weight, dtype);
  const at::Tensor go = kernel_operand(grad_output, dtype);
  at::Tensor grad_input = output_mask[0] ? at::empty_like(x) : at::empty({0}, opts);
  at::Tensor grad_weight = output_mask[1] ? at::zeros_like(w) : at::empty({0}, opts);
  at::Tensor grad_bias = output_mask[2] ? go.sum({0, 2, 3}) : at::empty({0}, opts);
  if (l.batch > 0 && l.out_channels > 0) {
    conv2d_backward(Backend{}, l, go, x, w, output_mask[0] ? &grad_input : nullptr,
                    output_mask[1] ? &grad_weight : nullptr);
  } else if (output_mask[0]) {
    grad_input.zero_();
  }
  const auto t = input.scalar_type();
  // an unrequested grad_input is an empty placeholder: no layout to give it
  return {output_mask[0] ? like_input(grad_input, input) : grad_input, grad_weight.to(t), grad_bias.to(t)};
}

template <typename Backend>
at::Tensor conv2d_grad_input(const Layer& l, const at::Tensor& grad_output, const at::Tensor& weight) {
  at::Tensor grad_input = at::empty({l.batch, l.in_channels, l.p.height, l.p.width}, grad_output.options());
  if (l.batch > 0 && l.out_channels > 0) {
    conv2d_backward(Backend{}, l, grad_output, at::Tensor(), weight, &grad_input, nullptr);
  } else {
    grad_input.zero_();
  }
  return grad_input;
}

#define EQUICONV_INSTANTIATE(Backend)                                                              \
  template at::Tensor equi_conv2d_forward<Backend>(                                                \
      const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, c10::IntArrayRef,    \
      c10::IntArrayRef, c10::IntArrayRef, int64_t, c10::ArrayRef<double>, double);                 \
  template std::tuple<at::Tensor, at::Tensor, at::Tensor> equi_conv2d_backward<Backend>(           \
      const at::Tensor&, const at::Tensor&, const at::Tensor&, c10::IntArrayRef, c10::IntArrayRef, \
      c10::IntArrayRef, int64_t, c10::ArrayRef<double>, double, std::array<bool, 3>);              \
  template at::Tensor conv2d_grad_input<Backend>(const Layer&, const at::Tensor&, const at::Tensor&);

EQUICONV_INSTANTIATE(Cpu)
#ifdef WITH_CUDA
EQUICONV_INSTANTIATE(Cuda)
#endif

template at::Tensor equi_conv2d_autocast<c10::DeviceType::CPU>(
    const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, c10::IntArrayRef,
    c10::IntArrayRef, c10::IntArrayRef, int64_t, c10::ArrayRef<double>, double);
template at::Tensor equi_conv2d_autocast<c10::DeviceType::CUDA>(
    const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, c10::IntArrayRef,
    c10::IntArrayRef, c10::IntArrayRef, int64_t, c10::ArrayRef<double>, double);

}  // namespace equiconv
