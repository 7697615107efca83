// equi_conv2d's CUDA kernels: elements.h's im2col and col2im through the shared launcher.
#include "kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "../../cuda/launch.cuh"
#include "elements.h"

namespace equiconv {
namespace cuda {

template <typename scalar_t, typename acc_t>
void im2col(const scalar_t* input, scalar_t* columns, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, int64_t row_begin, int64_t row_end, cudaStream_t stream) {
  launch(Im2col{{row_begin, row_end}}, input, columns, plan, channels, images, stream);
}

template <typename scalar_t, typename acc_t>
void col2im(const scalar_t* columns, scalar_t* grad_input, const PlanView<acc_t>& plan,
            int64_t channels, int64_t images, int64_t row_begin, int64_t row_end, cudaStream_t stream) {
  launch(Col2im{{row_begin, row_end}}, columns, grad_input, plan, channels, images, stream);
}

#define EQUICONV_INSTANTIATE(scalar_t, acc_t)                                                           \
  template void im2col<scalar_t, acc_t>(const scalar_t*, scalar_t*, const PlanView<acc_t>&, int64_t,     \
                                        int64_t, int64_t, int64_t, cudaStream_t);                        \
  template void col2im<scalar_t, acc_t>(const scalar_t*, scalar_t*, const PlanView<acc_t>&, int64_t,     \
                                        int64_t, int64_t, int64_t, cudaStream_t);

EQUICONV_FOR_EACH_CUDA_TYPE(EQUICONV_INSTANTIATE)

}  // namespace cuda
}  // namespace equiconv
