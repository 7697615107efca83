#include "device_plan.h"

#include <c10/cuda/CUDAGraphsC10Utils.h>

namespace equiconv {
namespace cuda {

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

}  // namespace cuda
}  // namespace equiconv
