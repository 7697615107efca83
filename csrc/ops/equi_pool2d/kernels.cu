// The pooling kernels: elements.h's threads through the shared launcher.
#include "kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "../../cuda/launch.cuh"
#include "elements.h"

namespace equiconv {
namespace cuda {

template <typename scalar_t, typename acc_t>
void pool_forward(const scalar_t* input, scalar_t* out, int64_t* winners, const PlanView<acc_t>& plan,
                  int64_t planes, cudaStream_t stream) {
  launch(PoolForward{winners}, input, out, plan, planes, 1, stream);
}

template <typename scalar_t, typename acc_t>
void pool_backward(const scalar_t* grad_output, const int64_t* winners, scalar_t* grad_input,
                   const PlanView<acc_t>& plan, int64_t planes, cudaStream_t stream) {
  launch(PoolBackward{winners}, grad_output, grad_input, plan, planes, 1, stream);
}

#define EQUICONV_INSTANTIATE(scalar_t, acc_t)                                                              \
  template void pool_forward<scalar_t, acc_t>(const scalar_t*, scalar_t*, int64_t*, const PlanView<acc_t>&,  \
                                              int64_t, cudaStream_t);                                       \
  template void pool_backward<scalar_t, acc_t>(const scalar_t*, const int64_t*, scalar_t*,                  \
                                               const PlanView<acc_t>&, int64_t, cudaStream_t);

EQUICONV_FOR_EACH_CUDA_TYPE(EQUICONV_INSTANTIATE)

}  // namespace cuda
}  // namespace equiconv
