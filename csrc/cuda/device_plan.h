// What every operator's CUDA glue needs around its kernels: the native CUDA type of an ATen
// scalar type, and the layer's sampling plan on the device, safe for the current stream.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <memory>

#include "../geometry.h"
#include "acc.h"

namespace equiconv {
namespace cuda {

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
                                                at::ScalarType dtype, const c10::cuda::CUDAStream& stream);

// A plan on the current stream of `device` in the accumulation dtype of scalar_t, with its view.
template <typename scalar_t>
struct DevicePlan {
  using acc_t = typename Acc<scalar_t>::type;
  std::shared_ptr<const SamplingPlan> plan;  // alive until the host function returns
  PlanView<acc_t> view;
  cudaStream_t stream;

  DevicePlan(const GeometryParams& p, c10::Device device)
      : DevicePlan(p, device, c10::cuda::getCurrentCUDAStream(device.index())) {}

 private:
  DevicePlan(const GeometryParams& p, c10::Device device, const c10::cuda::CUDAStream& s)
      : plan(device_plan(p, device, c10::CppTypeToScalarType<acc_t>::value, s)),
        view(plan->template view<acc_t>(p)),
        stream(s.stream()) {}
};

}  // namespace cuda
}  // namespace equiconv
