// The one place where equiconv's operators are declared and bound to their kernels.
// Fake (meta) kernels and autograd are registered from Python (equiconv/_ops.py).
#include <Python.h>
#include <torch/library.h>

#include "equi_conv2d.h"

extern "C" {
// Importing equiconv._C loads this library, which runs the registrations below.
PyObject* PyInit__C(void) {
  static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module);
}
}

TORCH_LIBRARY(equiconv, m) {
  m.def(
      "equi_conv2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride, int[2] padding, "
      "int[2] dilation, int groups, float[2] lat_range, float lon_span) -> Tensor");
  m.def(
      "equi_conv2d_backward(Tensor grad_output, Tensor input, Tensor weight, int[2] stride, "
      "int[2] padding, int[2] dilation, int groups, float[2] lat_range, float lon_span, "
      "bool[3] output_mask) -> (Tensor, Tensor, Tensor)");
  m.def(
      "sampling_grid(int height, int width, int[2] kernel_size, int[2] stride, int[2] padding, "
      "int[2] dilation, float[2] lat_range, float lon_span) -> (Tensor, Tensor)",
      &equiconv::sampling_grid);
  m.def(
      "sampling_plan(int height, int width, int[2] kernel_size, int[2] stride, int[2] padding, "
      "int[2] dilation, float[2] lat_range, float lon_span) -> Tensor[]",
      &equiconv::sampling_plan_tables);
}

// One device-generic entry point per operator (csrc/equi_conv2d.cpp picks the kernels).
TORCH_LIBRARY_IMPL(equiconv, CPU, m) {
  m.impl("equi_conv2d", &equiconv::equi_conv2d_forward);
  m.impl("equi_conv2d_backward", &equiconv::equi_conv2d_backward);
}

#ifdef WITH_CUDA
TORCH_LIBRARY_IMPL(equiconv, CUDA, m) {
  m.impl("equi_conv2d", &equiconv::equi_conv2d_forward);
  m.impl("equi_conv2d_backward", &equiconv::equi_conv2d_backward);
}
#endif

TORCH_LIBRARY_IMPL(equiconv, AutocastCPU, m) {
  m.impl("equi_conv2d", &equiconv::equi_conv2d_autocast<c10::DeviceType::CPU>);
}

TORCH_LIBRARY_IMPL(equiconv, AutocastCUDA, m) {
  m.impl("equi_conv2d", &equiconv::equi_conv2d_autocast<c10::DeviceType::CUDA>);
}
