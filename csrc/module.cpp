// The extension module and the `equiconv` operator library: the geometry ops defined here, each
// operator in its own folder (csrc/ops/<name>/) adding its schema and kernels as a fragment.
// Fake (meta) kernels and autograd are registered from Python (equiconv/ops/<name>.py).
#include <Python.h>
#include <ATen/ATen.h>
#include <torch/library.h>

#include <vector>

#include "geometry.h"

extern "C" {
// Importing equiconv._C loads this library, which runs every registration of the core.
PyObject* PyInit__C(void) {
  static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module);
}
}

namespace equiconv {
namespace {

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

// The cached sampling plan (float64, CPU): [ext_h, ext_w] followed by SamplingPlan::tables().
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

}  // namespace
}  // namespace equiconv

TORCH_LIBRARY(equiconv, m) {
  m.def(
      "sampling_grid(int height, int width, int[2] kernel_size, int[2] stride, int[2] padding, "
      "int[2] dilation, float[2] lat_range, float lon_span) -> (Tensor, Tensor)",
      &equiconv::sampling_grid);
  m.def(
      "sampling_plan(int height, int width, int[2] kernel_size, int[2] stride, int[2] padding, "
      "int[2] dilation, float[2] lat_range, float lon_span) -> Tensor[]",
      &equiconv::sampling_plan_tables);
}
