// The device check of the CUDA ops (csrc/cuda/same_device.h), exposed on CPU tensors (meta
// tensors stand for another device) as torch.ops.equiconv_host.same_device; built with the
// driver harness by tests/equiconv/cuda/test_cuda_driver.py.
#include <torch/library.h>

#include <optional>

#include "cuda/same_device.h"

namespace {

// As conv2d_backward(Cuda) checks its arguments against the input.
void host_same_device(const at::Tensor& input, const std::optional<at::Tensor>& grad_output,
                      const std::optional<at::Tensor>& weight) {
  const at::Tensor go = grad_output.value_or(at::Tensor()), w = weight.value_or(at::Tensor());
  equiconv::cuda::check_same_device(input, "input", {{"grad_output", &go}, {"weight", &w}});
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(equiconv_host, m) {
  m.def("same_device(Tensor input, Tensor? grad_output, Tensor? weight) -> ()", &host_same_device);
}
