// CUDA implementation: the driver of driver.h (chunks, batched cuBLAS GEMMs) over launchers of
// the kernels of kernels.cu, on the current stream of the input's device, with the device plan
// made safe for that stream (see device_plan).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGraphsC10Utils.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "../layer.h"
#include "driver.h"
#include "kernels.h"

namespace equiconv {
namespace cuda {
namespace {

// The CUDA storage type of an ATen scalar type (same bits).
template <typename T> struct Native { using type = T; };
template <> struct Native<at::Half> { using type = __half; };
template <> struct Native<at::BFloat16> { using type = __nv_bfloat16; };

// The layer's plan on the device, usable by work queued on `stream`. Eagerly:
// - the stream waits for the plan's table copy (queued without blocking, on whichever stream was
//   current when the plan was built);
// - record_stream keeps the tables' memory from being reused by an allocation of another stream
//   while kernels queued here may still read them, even if the cache evicts the plan meanwhile.
// During CUDA-graph capture the plan must exist already (a miss is a clear error) and is never
// evicted from then on, since the graph may replay its pointers at any time; nothing waits on an
// event from outside the capture (illegal there) and nothing needs recording.
std::shared_ptr<const SamplingPlan> device_plan(const GeometryParams& p, c10::Device device,
                                                at::ScalarType dtype, const c10::cuda::CUDAStream& stream) {
  if (c10::cuda::currentStreamCaptureStatusMayInitCtx() != c10::cuda::CaptureStatus::None) {
    return sampling_plan(p, device, dtype, PlanUse::kGraphCapture);
  }
  auto plan = sampling_plan(p, device, dtype);
  plan->ready->block(stream);
  plan->storage.record_stream(stream);
  return plan;
}

template <typename scalar_t>
struct Launcher {
  using native_t = typename Native<scalar_t>::type;
  using acc_t = typename Acc<scalar_t>::type;
  std::shared_ptr<const SamplingPlan> plan;  // alive until the host function returns
  PlanView<acc_t> view;
  cudaStream_t stream;

  void im2col(const scalar_t* input, scalar_t* columns, int64_t channels, int64_t images) const {
    cuda::im2col(reinterpret_cast<const native_t*>(input), reinterpret_cast<native_t*>(columns), view, channels,
                 images, stream);
  }
  void col2im(const scalar_t* columns, scalar_t* grad_input, int64_t channels, int64_t images) const {
    cuda::col2im(reinterpret_cast<const native_t*>(columns), reinterpret_cast<native_t*>(grad_input), view,
                 channels, images, stream);
  }
};

struct Device {
  c10::Device device;
  c10::cuda::CUDAStream stream;

  template <typename scalar_t>
  Launcher<scalar_t> launcher(const GeometryParams& p) const {
    using acc_t = typename Acc<scalar_t>::type;
    auto plan = device_plan(p, device, c10::CppTypeToScalarType<acc_t>::value, stream);
    const PlanView<acc_t> view = plan->template view<acc_t>(p);
    return Launcher<scalar_t>{std::move(plan), view, stream.stream()};
  }
};

Device current(const at::Tensor& input) {
  return Device{input.device(), c10::cuda::getCurrentCUDAStream(input.device().index())};
}

}  // namespace

void forward(const Layer& l, const at::Tensor& input, const at::Tensor& weight, at::Tensor& out) {
  const c10::cuda::CUDAGuard guard(input.device());
  cuda::forward(current(input), l, input, weight, out);
}

void backward(const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
              const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight) {
  const c10::cuda::CUDAGuard guard(input.device());
  cuda::backward(current(input), l, grad_output, input, weight, grad_input, grad_weight);
}

}  // namespace cuda
}  // namespace equiconv
