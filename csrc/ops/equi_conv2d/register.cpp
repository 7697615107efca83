// equi_conv2d in the `equiconv` library: its schemas, and one kernel per dispatch key.
#include <torch/library.h>

#include "equi_conv2d.h"

TORCH_LIBRARY_FRAGMENT(equiconv, m) {
  m.def(
      "equi_conv2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride, int[2] padding, "
      "int[2] dilation, int groups, float[2] lat_range, float lon_span) -> Tensor");
  m.def(
      "equi_conv2d_backward(Tensor grad_output, Tensor input, Tensor weight, int[2] stride, "
      "int[2] padding, int[2] dilation, int groups, float[2] lat_range, float lon_span, "
      "bool[3] output_mask) -> (Tensor, Tensor, Tensor)");
}

namespace equiconv {

TORCH_LIBRARY_IMPL(equiconv, CPU, m) {
  m.impl("equi_conv2d", &equi_conv2d_forward<Cpu>);
  m.impl("equi_conv2d_backward", &equi_conv2d_backward<Cpu>);
}

TORCH_LIBRARY_IMPL(equiconv, CUDA, m) {
  m.impl("equi_conv2d", EQUICONV_CUDA_KERNEL(&equi_conv2d_forward<Cuda>));
  m.impl("equi_conv2d_backward", EQUICONV_CUDA_KERNEL(&equi_conv2d_backward<Cuda>));
}

TORCH_LIBRARY_IMPL(equiconv, AutocastCPU, m) {
  m.impl("equi_conv2d", &equi_conv2d_autocast<c10::DeviceType::CPU>);
}

TORCH_LIBRARY_IMPL(equiconv, AutocastCUDA, m) {
  m.impl("equi_conv2d", &equi_conv2d_autocast<c10::DeviceType::CUDA>);
}

}  // namespace equiconv
