// equi_conv_transpose2d: the adjoint of equi_conv2d in its input, run by equi_conv2d's own
// grad-input kernels on the fine grid that nn.ConvTranspose2d's output-size formula gives. The
// weight (in, out/groups, kH, kW) is, read as a convolution's (out, in/groups, kH, kW), exactly
// the convolution whose adjoint this is.
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include "../../autocast.h"
#include "../equi_conv2d/layer.h"

namespace equiconv {
namespace {

// nn.ConvTranspose2d's output size along one axis.
int64_t transposed_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                        int64_t output_padding) {
  return (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1;
}

template <typename Backend>
at::Tensor equi_conv_transpose2d(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef output_padding,
    c10::IntArrayRef dilation, int64_t groups, c10::ArrayRef<double> lat_range, double lon_span) {
  check_operands<Backend>(input, weight);
  TORCH_CHECK_VALUE(weight.dim() == 4, "weight must be 4-D (in, out/groups, kH, kW), got ", weight.dim(), "-D");
  TORCH_CHECK_VALUE(input.size(1) == weight.size(0), "input has ", input.size(1),
                    " channels but weight expects ", weight.size(0));
  TORCH_CHECK_VALUE(stride.size() == 2 && padding.size() == 2 && output_padding.size() == 2 &&
                        dilation.size() == 2,
                    "stride, padding, output_padding and dilation must have 2 elements");
  int64_t fine[2];
  for (int axis = 0; axis < 2; ++axis) {
    TORCH_CHECK_VALUE(output_padding[axis] >= 0 &&
                          (output_padding[axis] < stride[axis] || output_padding[axis] < dilation[axis]),
                      "output_padding must be smaller than either stride or dilation, got output_padding=",
                      output_padding, ", stride=", stride, ", dilation=", dilation);
    fine[axis] = transposed_size(input.size(2 + axis), weight.size(2 + axis), stride[axis], padding[axis],
                                 dilation[axis], output_padding[axis]);
    TORCH_CHECK_VALUE(fine[axis] > 0, "the output would be empty (", fine[0], "x", fine[1], ")");
  }
  const int64_t out_channels = weight.size(1) * groups;
  const Layer l = check_layer({input.size(0), out_channels, fine[0], fine[1]}, weight, stride, padding,
                              dilation, groups, lat_range, lon_span);
  const bool has_bias = bias.has_value() && bias->defined();
  if (has_bias) {
    TORCH_CHECK_VALUE(bias->dim() == 1 && bias->size(0) == out_channels, "bias must have shape (",
                      out_channels, "), got ", bias->sizes());
    TORCH_CHECK_VALUE(bias->device() == input.device(), "bias is on ", bias->device(), " but input is on ",
                      input.device(), ": every tensor argument must be on input's device");
  }
  const auto dtype = compute_dtype(Backend{}, input);
  at::Tensor x = kernel_operand(input, dtype);
  // With output_padding >= stride (allowed below the dilation) the fine grid's convolution has
  // more outputs than the input has pixels: the map is then that convolution cropped, and its
  // adjoint reads zeros there.
  if (l.p.out_h() != x.size(2) || l.p.out_w() != x.size(3)) {
    x = at::constant_pad_nd(x, {0, l.p.out_w() - x.size(3), 0, l.p.out_h() - x.size(2)}).contiguous();
  }
  at::Tensor out = conv2d_grad_input<Backend>(l, x, kernel_operand(weight, dtype));
  if (has_bias) out.add_(kernel_operand(*bias, dtype).view({1, -1, 1, 1}));
  return like_input(out, input);
}

// Autocast, as for nn.ConvTranspose2d.
template <c10::DeviceType device>
at::Tensor equi_conv_transpose2d_autocast(
    const at::Tensor& input, const at::Tensor& weight, const std::optional<at::Tensor>& bias,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef output_padding,
    c10::IntArrayRef dilation, int64_t groups, c10::ArrayRef<double> lat_range, double lon_span) {
  return autocast_call<device, decltype(equi_conv_transpose2d<Cpu>)>(
      "equiconv::equi_conv_transpose2d", input, weight, bias, stride, padding, output_padding, dilation, groups,
      lat_range, lon_span);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(equiconv, m) {
  m.def(
      "equi_conv_transpose2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride, int[2] padding, "
      "int[2] output_padding, int[2] dilation, int groups, float[2] lat_range, float lon_span) -> Tensor");
}

TORCH_LIBRARY_IMPL(equiconv, CPU, m) { m.impl("equi_conv_transpose2d", &equi_conv_transpose2d<Cpu>); }

TORCH_LIBRARY_IMPL(equiconv, CUDA, m) {
  m.impl("equi_conv_transpose2d", EQUICONV_CUDA_KERNEL(&equi_conv_transpose2d<Cuda>));
}

TORCH_LIBRARY_IMPL(equiconv, AutocastCPU, m) {
  m.impl("equi_conv_transpose2d", &equi_conv_transpose2d_autocast<c10::DeviceType::CPU>);
}

TORCH_LIBRARY_IMPL(equiconv, AutocastCUDA, m) {
  m.impl("equi_conv_transpose2d", &equi_conv_transpose2d_autocast<c10::DeviceType::CUDA>);
}

}  // namespace equiconv
