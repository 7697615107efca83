// CUDA implementation: per chunk of images, the spherical im2col (kernels.cu) writes the columns
// of every image side by side, so that one batched cuBLAS GEMM per chunk covers all groups and
// images; backward reuses the layout (grad weight = GEMM with recomputed columns, grad input =
// GEMM then a deterministic gather). Runs on the current stream of the input's device.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <type_traits>

#include "../layer.h"
#include "kernels.h"

namespace equiconv {
namespace cuda {
namespace {

constexpr int64_t kColumnBudgetBytes = int64_t(1) << 30;  // columns of one chunk of images

// The CUDA storage type of an ATen scalar type (same bits) and the accumulation type.
template <typename T> struct Native { using type = T; using acc = T; };
template <> struct Native<at::Half> { using type = __half; using acc = float; };
template <> struct Native<at::BFloat16> { using type = __nv_bfloat16; using acc = float; };

template <typename scalar_t>
struct Pass {
  using native_t = typename Native<scalar_t>::type;
  using acc_t = typename Native<scalar_t>::acc;

  const Layer& l;
  std::shared_ptr<const SamplingPlan> plan;
  PlanView<acc_t> view;
  int64_t pixels, chunk;
  at::Tensor w;  // (groups, out/groups, k_group)
  cudaStream_t stream;

  Pass(const Layer& layer, const at::Tensor& input, const at::Tensor& weight)
      : l(layer),
        plan(sampling_plan(l.p, input.device(), c10::CppTypeToScalarType<acc_t>::value)),
        view(plan->view<acc_t>(l.p)),
        pixels(l.p.out_h() * l.p.out_w()),
        chunk(std::clamp<int64_t>(
            kColumnBudgetBytes / std::max<int64_t>(1, l.in_channels * l.p.taps() * pixels * int64_t(sizeof(scalar_t))),
            1, l.batch)),
        w(weight.view({l.groups, l.out_group(), l.k_group()})),
        stream(c10::cuda::getCurrentCUDAStream(input.device().index()).stream()) {}

  // (groups, k_group, nb * pixels) columns of images [n0, n0 + nb).
  at::Tensor columns(const at::Tensor& input, int64_t n0, int64_t nb) const {
    at::Tensor cols = at::empty({l.groups, l.k_group(), nb * pixels}, input.options());
    const int64_t image = l.in_channels * l.p.height * l.p.width;
    im2col(reinterpret_cast<const native_t*>(input.const_data_ptr<scalar_t>()) + n0 * image,
           reinterpret_cast<native_t*>(cols.data_ptr<scalar_t>()), view, l.in_channels, nb, stream);
    return cols;
  }

  // Output-shaped (nb, C, Ho, Wo) <-> GEMM-shaped (groups, C / groups, nb * pixels).
  at::Tensor to_gemm(const at::Tensor& t, int64_t n0, int64_t nb) const {
    return t.narrow(0, n0, nb).view({nb, l.out_channels, pixels}).transpose(0, 1)
        .reshape({l.groups, l.out_group(), nb * pixels});
  }
  at::Tensor from_gemm(const at::Tensor& t, int64_t nb) const {
    return t.view({l.out_channels, nb, l.p.out_h(), l.p.out_w()}).transpose(0, 1);
  }
};

template <typename scalar_t>
void forward_impl(const Layer& l, const at::Tensor& input, const at::Tensor& weight, at::Tensor& out) {
  const Pass<scalar_t> pass(l, input, weight);
  for (int64_t n0 = 0; n0 < l.batch; n0 += pass.chunk) {
    const int64_t nb = std::min(pass.chunk, l.batch - n0);
    const at::Tensor product = at::bmm(pass.w, pass.columns(input, n0, nb));
    out.narrow(0, n0, nb).copy_(pass.from_gemm(product, nb));
  }
}

template <typename scalar_t>
void backward_impl(const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
                   const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight) {
  using Pass_t = Pass<scalar_t>;
  const Pass_t pass(l, input, weight);
  // Reduced precisions sum the chunks' grad weight in float32.
  at::Tensor gw_acc;
  if (grad_weight) gw_acc = at::zeros({l.groups, l.out_group(), l.k_group()}, input.options().dtype(
                                          c10::CppTypeToScalarType<typename Pass_t::acc_t>::value));
  const int64_t image = l.in_channels * l.p.height * l.p.width;
  for (int64_t n0 = 0; n0 < l.batch; n0 += pass.chunk) {
    const int64_t nb = std::min(pass.chunk, l.batch - n0);
    const at::Tensor go = pass.to_gemm(grad_output, n0, nb);
    if (grad_weight) gw_acc.add_(at::bmm(go, pass.columns(input, n0, nb).transpose(1, 2)));
    if (grad_input) {
      const at::Tensor grad_cols = at::bmm(pass.w.transpose(1, 2), go);  // (groups, k_group, nb * pixels)
      col2im(reinterpret_cast<const typename Pass_t::native_t*>(grad_cols.const_data_ptr<scalar_t>()),
             reinterpret_cast<typename Pass_t::native_t*>(grad_input->data_ptr<scalar_t>()) + n0 * image,
             pass.view, l.in_channels, nb, pass.stream);
    }
  }
  if (grad_weight) grad_weight->view({l.groups, l.out_group(), l.k_group()}).copy_(gw_acc);
}

}  // namespace

void forward(const Layer& l, const at::Tensor& input, const at::Tensor& weight, at::Tensor& out) {
  const c10::cuda::CUDAGuard guard(input.device());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "equi_conv2d_forward_cuda",
                                  [&] { forward_impl<scalar_t>(l, input, weight, out); });
}

void backward(const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
              const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight) {
  const c10::cuda::CUDAGuard guard(input.device());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "equi_conv2d_backward_cuda", [&] {
    backward_impl<scalar_t>(l, grad_output, input, weight, grad_input, grad_weight);
  });
}

}  // namespace cuda
}  // namespace equiconv
