// The pooling kernels' per-thread functions (csrc/ops/equi_pool2d/elements.h) run on the host over a
// plan packed as for a GPU, with either index type, for any dtype the kernels take (float16 and
// bfloat16 as c10::Half / c10::BFloat16). Built with csrc/geometry.cpp by tests/equiconv/cuda/test_cuda_host_pool.py;
// its ops are torch.ops.equiconv_host_pool.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "cuda/acc.h"
#include "geometry.h"
#include "host_threads.h"
#include "ops/equi_pool2d/elements.h"

namespace equiconv {
namespace cuda {
namespace {

GeometryParams params(const at::Tensor& t, c10::IntArrayRef image, c10::IntArrayRef kernel_size,
                      c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation,
                      c10::ArrayRef<double> lat_range, double lon_span) {
  return make_params(image[0], image[1], kernel_size, stride, padding, dilation, lat_range, lon_span);
}

// Runs `kind` over the planes of `src` into `dst` with a packed plan, as kernels.cu launches it.
template <typename Make>
void run(const GeometryParams& p, const at::Tensor& src, at::Tensor& dst, int64_t planes, bool wide, Make make) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, src.scalar_type(), "pool_host", [&] {
    using acc_t = typename Acc<scalar_t>::type;
    const SamplingPlan plan = packed(*sampling_plan(p, c10::kCPU, c10::CppTypeToScalarType<acc_t>::value), c10::kCPU);
    const PlanView<acc_t> view = plan.view<acc_t>(p);
    run_threads(make(), src.const_data_ptr<scalar_t>(), dst.data_ptr<scalar_t>(), view, planes, 1,
                wide || !fits_int32(largest_index(view, planes, 1)));
  });
}

std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor& input, c10::IntArrayRef kernel_size,
                                           c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation,
                                           c10::ArrayRef<double> lat_range, double lon_span, bool max, bool wide) {
  const at::Tensor x = input.contiguous();
  const GeometryParams p = params(x, x.sizes().slice(2), kernel_size, stride, padding, dilation, lat_range, lon_span);
  at::Tensor out = at::full({x.size(0), x.size(1), p.out_h(), p.out_w()}, NAN, x.options());
  at::Tensor winners = at::full(out.sizes(), -1, x.options().dtype(at::kLong));
  run(p, x, out, x.size(0) * x.size(1), wide, [&] { return PoolForward{max ? winners.data_ptr<int64_t>() : nullptr}; });
  return {out, winners};
}

at::Tensor backward(const at::Tensor& grad_output, const at::Tensor& winners, c10::IntArrayRef input_size,
                    c10::IntArrayRef kernel_size, c10::IntArrayRef stride, c10::IntArrayRef padding,
                    c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range, double lon_span, bool max, bool wide) {
  const at::Tensor g = grad_output.contiguous(), w = winners.contiguous();
  const GeometryParams p = params(g, input_size, kernel_size, stride, padding, dilation, lat_range, lon_span);
  at::Tensor grad_input = at::full({g.size(0), g.size(1), p.height, p.width}, NAN, g.options());
  run(p, g, grad_input, g.size(0) * g.size(1), wide,
      [&] { return PoolBackward{max ? w.const_data_ptr<int64_t>() : nullptr}; });
  return grad_input;
}

}  // namespace
}  // namespace cuda
}  // namespace equiconv

TORCH_LIBRARY(equiconv_host_pool, m) {
  m.def("forward(Tensor input, int[2] kernel_size, int[2] stride, int[2] padding, int[2] dilation, "
        "float[2] lat_range, float lon_span, bool max, bool wide) -> (Tensor, Tensor)",
        &equiconv::cuda::forward);
  m.def("backward(Tensor grad_output, Tensor winners, int[2] input_size, int[2] kernel_size, int[2] stride, "
        "int[2] padding, int[2] dilation, float[2] lat_range, float lon_span, bool max, bool wide) -> Tensor",
        &equiconv::cuda::backward);
}
