// equi_conv2d on CUDA: the driver of driver.h (chunks, row bands, batched cuBLAS GEMMs) over
// launchers of the kernels of kernels.cu, on the current stream of the input's device.
#include <ATen/ATen.h>
#include <ATen/cuda/EmptyTensor.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "../../cuda/device_plan.h"
#include "../../cuda/same_device.h"
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

  void im2col(const scalar_t* input, scalar_t* columns, int64_t channels, int64_t images, RowBand band) const {
    cuda::im2col(reinterpret_cast<const native_t*>(input), reinterpret_cast<native_t*>(columns), plan.view,
                 channels, images, band.begin, band.end, plan.stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  void col2im(const scalar_t* columns, scalar_t* grad_input, int64_t channels, int64_t images, RowBand band) const {
    cuda::col2im(reinterpret_cast<const native_t*>(columns), reinterpret_cast<native_t*>(grad_input), plan.view,
                 channels, images, band.begin, band.end, plan.stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  // The driver's scratch (columns, grad columns, a band's grad input, the bands' sum) is written
  // in full before it is read. at::empty would, under torch.use_deterministic_algorithms with
  // fill_uninitialized_memory on (the default), NaN-fill it first: gigabytes of writes per call for
  // large layers. at::detail::empty_cuda is the caching allocator's plain allocation, which never
  // fills; what is returned to the user (out, grad_input, grad_weight) is still allocated by the
  // entry points with at::empty and keeps the deterministic fill.
  at::Tensor empty(at::IntArrayRef sizes, const at::TensorOptions& options) const {
    return at::detail::empty_cuda(sizes, options);
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
  cuda::check_same_device(input, "input", {{"weight", &weight}, {"bias", &bias}, {"out", &out}});
  const c10::cuda::CUDAGuard guard(input.device());
  cuda::forward(cuda::Device{input.device()}, l, input, weight, out);
  if (bias.defined()) out.add_(bias.view({1, -1, 1, 1}));
}

void conv2d_backward(Cuda, const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
                     const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight) {
  // input is undefined when only grad_input is asked for (and for the transposed convolution,
  // whose input is this grad_output): the reference is then grad_output.
  const bool has_input = input.defined();
  const at::Tensor& reference = has_input ? input : grad_output;
  cuda::check_same_device(reference, has_input ? "input" : "grad_output",
                          {{"grad_output", &grad_output}, {"weight", &weight}, {"grad_input", grad_input},
                           {"grad_weight", grad_weight}});
  const c10::cuda::CUDAGuard guard(reference.device());
  cuda::backward(cuda::Device{reference.device()}, l, grad_output, input, weight, grad_input, grad_weight);
}

}  // namespace equiconv
