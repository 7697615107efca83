// Pooling on CUDA: kernels.cu on the current stream of the input's device, over the device plan.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "../../cuda/device_plan.h"
#include "../../cuda/same_device.h"
#include "kernels.h"
#include "pool.h"

namespace equiconv {

void pool2d_forward(Cuda, const Pool& pool, const at::Tensor& input, at::Tensor& out, at::Tensor* indices) {
  cuda::check_same_device(input, "input", {{"out", &out}, {"indices", indices}});
  const c10::cuda::CUDAGuard guard(input.device());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "equi_pool2d_forward_cuda", [&] {
    using native_t = typename cuda::Native<scalar_t>::type;
    const cuda::DevicePlan<scalar_t> plan(pool.p, input.device());
    cuda::pool_forward(reinterpret_cast<const native_t*>(input.const_data_ptr<scalar_t>()),
                       reinterpret_cast<native_t*>(out.data_ptr<scalar_t>()),
                       indices ? indices->data_ptr<int64_t>() : nullptr, plan.view, pool.planes(), plan.stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

void pool2d_backward(Cuda, const Pool& pool, const at::Tensor& grad_output, const at::Tensor* indices,
                     at::Tensor& grad_input) {
  cuda::check_same_device(grad_output, "grad_output", {{"indices", indices}, {"grad_input", &grad_input}});
  const c10::cuda::CUDAGuard guard(grad_output.device());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_output.scalar_type(), "equi_pool2d_backward_cuda", [&] {
    using native_t = typename cuda::Native<scalar_t>::type;
    const cuda::DevicePlan<scalar_t> plan(pool.p, grad_output.device());
    cuda::pool_backward(reinterpret_cast<const native_t*>(grad_output.const_data_ptr<scalar_t>()),
                        indices ? indices->const_data_ptr<int64_t>() : nullptr,
                        reinterpret_cast<native_t*>(grad_input.data_ptr<scalar_t>()), plan.view, pool.planes(),
                        plan.stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

}  // namespace equiconv
