// equi_conv2d on CUDA: the driver of driver.h (chunks, batched cuBLAS GEMMs) over launchers of
// the kernels of kernels.cu, on the current stream of the input's device.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>

#include "../../cuda/device_plan.h"
#include "driver.h"
#include "kernels.h"
#include "layer.h"

namespace equiconv {
namespace cuda {
namespace {

template <typename scalar_t>
struct Launcher {
  using native_t = typename Native<scalar_t>::type;
  DevicePlan<scalar_t> plan;

  void im2col(const scalar_t* input, scalar_t* columns, int64_t channels, int64_t images) const {
    cuda::im2col(reinterpret_cast<const native_t*>(input), reinterpret_cast<native_t*>(columns), plan.view,
                 channels, images, plan.stream);
  }
  void col2im(const scalar_t* columns, scalar_t* grad_input, int64_t channels, int64_t images) const {
    cuda::col2im(reinterpret_cast<const native_t*>(columns), reinterpret_cast<native_t*>(grad_input), plan.view,
                 channels, images, plan.stream);
  }
};

struct Device {
  c10::Device device;

  template <typename scalar_t>
  Launcher<scalar_t> launcher(const GeometryParams& p) const {
    return Launcher<scalar_t>{DevicePlan<scalar_t>(p, device)};
  }
};

}  // namespace
}  // namespace cuda

void conv2d_forward(Cuda, const Layer& l, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                    at::Tensor& out) {
  const c10::cuda::CUDAGuard guard(input.device());
  cuda::forward(cuda::Device{input.device()}, l, input, weight, out);
  if (bias.defined()) out.add_(bias.view({1, -1, 1, 1}));
}

void conv2d_backward(Cuda, const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
                     const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight) {
  const c10::cuda::CUDAGuard guard(grad_output.device());
  cuda::backward(cuda::Device{grad_output.device()}, l, grad_output, input, weight, grad_input, grad_weight);
}

}  // namespace equiconv
