// equi_max_pool2d and equi_avg_pool2d (and their backward ops): schemas, checks, and one kernel
// per dispatch key, written once over the backend.
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include "pool.h"

namespace equiconv {
namespace {

Pool make_pool(at::IntArrayRef sizes, at::IntArrayRef image, c10::IntArrayRef kernel_size,
               c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation,
               c10::ArrayRef<double> lat_range, double lon_span, Reduce reduce) {
  return Pool{make_params(image[0], image[1], kernel_size, stride, padding, dilation, lat_range, lon_span),
              sizes[0], sizes[1], reduce};
}

template <typename Backend>
std::tuple<at::Tensor, at::Tensor> pool_forward(const at::Tensor& input, c10::IntArrayRef kernel_size,
                                                c10::IntArrayRef stride, c10::IntArrayRef padding,
                                                c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
                                                double lon_span, Reduce reduce) {
  check_image(input, "input");
  require_dtype(Backend{}, input, "input");
  const Pool pool = make_pool(input.sizes(), input.sizes().slice(2), kernel_size, stride, padding, dilation,
                              lat_range, lon_span, reduce);
  const auto dtype = compute_dtype(Backend{}, input);
  const std::vector<int64_t> shape{pool.batch, pool.channels, pool.p.out_h(), pool.p.out_w()};
  at::Tensor out = at::empty(shape, input.options().dtype(dtype));
  at::Tensor indices = at::empty(reduce == Reduce::kMax ? shape : std::vector<int64_t>{0},
                                 input.options().dtype(at::kLong));
  if (out.numel() > 0) {
    pool2d_forward(Backend{}, pool, kernel_operand(input, dtype), out,
                   reduce == Reduce::kMax ? &indices : nullptr);
  }
  if (reduce == Reduce::kMax) indices = indices.contiguous(input.suggest_memory_format());
  return {like_input(out, input), indices};
}

template <typename Backend>
at::Tensor pool_backward(const at::Tensor& grad_output, const at::Tensor* indices, c10::IntArrayRef input_size,
                         c10::IntArrayRef kernel_size, c10::IntArrayRef stride, c10::IntArrayRef padding,
                         c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range, double lon_span,
                         Reduce reduce) {
  check_image(grad_output, "grad_output");
  require_dtype(Backend{}, grad_output, "grad_output");
  TORCH_CHECK_VALUE(input_size.size() == 2, "input_size must be (height, width)");
  const Pool pool = make_pool(grad_output.sizes(), input_size, kernel_size, stride, padding, dilation,
                              lat_range, lon_span, reduce);
  TORCH_CHECK_VALUE(grad_output.size(2) == pool.p.out_h() && grad_output.size(3) == pool.p.out_w(),
                    "grad_output has shape ", grad_output.sizes(), ", expected the output's");
  at::Tensor idx;
  if (indices) {
    TORCH_CHECK_VALUE(indices->sizes() == grad_output.sizes() && indices->scalar_type() == at::kLong &&
                          indices->device() == grad_output.device(),
                      "indices must be an int64 tensor of grad_output's shape and device");
    idx = indices->contiguous();
  }
  const auto dtype = compute_dtype(Backend{}, grad_output);
  at::Tensor grad_input = at::empty({pool.batch, pool.channels, pool.p.height, pool.p.width},
                                    grad_output.options().dtype(dtype));
  if (grad_input.numel() == 0) return grad_input.to(grad_output.scalar_type());
  if (grad_output.numel() == 0) return grad_input.zero_().to(grad_output.scalar_type());
  pool2d_backward(Backend{}, pool, kernel_operand(grad_output, dtype), indices ? &idx : nullptr, grad_input);
  return like_input(grad_input, grad_output);
}

template <typename Backend>
std::tuple<at::Tensor, at::Tensor> max_pool(const at::Tensor& input, c10::IntArrayRef kernel_size,
                                            c10::IntArrayRef stride, c10::IntArrayRef padding,
                                            c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
                                            double lon_span) {
  return pool_forward<Backend>(input, kernel_size, stride, padding, dilation, lat_range, lon_span, Reduce::kMax);
}

template <typename Backend>
at::Tensor max_pool_backward(const at::Tensor& grad_output, const at::Tensor& indices, c10::IntArrayRef input_size,
                             c10::IntArrayRef kernel_size, c10::IntArrayRef stride, c10::IntArrayRef padding,
                             c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range, double lon_span) {
  return pool_backward<Backend>(grad_output, &indices, input_size, kernel_size, stride, padding, dilation,
                                lat_range, lon_span, Reduce::kMax);
}

template <typename Backend>
at::Tensor avg_pool(const at::Tensor& input, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
                    c10::IntArrayRef padding, c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
                    double lon_span) {
  return std::get<0>(
      pool_forward<Backend>(input, kernel_size, stride, padding, dilation, lat_range, lon_span, Reduce::kMean));
}

template <typename Backend>
at::Tensor avg_pool_backward(const at::Tensor& grad_output, c10::IntArrayRef input_size,
                             c10::IntArrayRef kernel_size, c10::IntArrayRef stride, c10::IntArrayRef padding,
                             c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range, double lon_span) {
  return pool_backward<Backend>(grad_output, nullptr, input_size, kernel_size, stride, padding, dilation,
                                lat_range, lon_span, Reduce::kMean);
}

}  // namespace

#define EQUICONV_POOL_GEOMETRY \
  "int[2] kernel_size, int[2] stride, int[2] padding, int[2] dilation, float[2] lat_range, float lon_span"

TORCH_LIBRARY_FRAGMENT(equiconv, m) {
  m.def("equi_max_pool2d(Tensor input, " EQUICONV_POOL_GEOMETRY ") -> (Tensor, Tensor)");
  m.def("equi_max_pool2d_backward(Tensor grad_output, Tensor indices, int[2] input_size, " EQUICONV_POOL_GEOMETRY
        ") -> Tensor");
  m.def("equi_avg_pool2d(Tensor input, " EQUICONV_POOL_GEOMETRY ") -> Tensor");
  m.def("equi_avg_pool2d_backward(Tensor grad_output, int[2] input_size, " EQUICONV_POOL_GEOMETRY ") -> Tensor");
}

TORCH_LIBRARY_IMPL(equiconv, CPU, m) {
  m.impl("equi_max_pool2d", &max_pool<Cpu>);
  m.impl("equi_max_pool2d_backward", &max_pool_backward<Cpu>);
  m.impl("equi_avg_pool2d", &avg_pool<Cpu>);
  m.impl("equi_avg_pool2d_backward", &avg_pool_backward<Cpu>);
}

TORCH_LIBRARY_IMPL(equiconv, CUDA, m) {
  m.impl("equi_max_pool2d", EQUICONV_CUDA_KERNEL(&max_pool<Cuda>));
  m.impl("equi_max_pool2d_backward", EQUICONV_CUDA_KERNEL(&max_pool_backward<Cuda>));
  m.impl("equi_avg_pool2d", EQUICONV_CUDA_KERNEL(&avg_pool<Cuda>));
  m.impl("equi_avg_pool2d_backward", EQUICONV_CUDA_KERNEL(&avg_pool_backward<Cuda>));
}

}  // namespace equiconv
