// CPU glue of the sampling steps: dtype dispatch and OpenMP over (image, channel) pairs.
// Each pair owns its scratch buffer and its output slice, so there are no data races.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/OpMathType.h>

#include <vector>

#include "../sampling.h"
#include "sphere_sampling.h"

namespace equiconv {
namespace cpu {
namespace {

// Work per (image, channel) pair is taps * out_h * out_w; aim for >= ~32k operations a task.
int64_t grain_for(const GeometryParams& p) {
  const int64_t work = p.taps() * p.out_h() * p.out_w();
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(work, 1));
}

}  // namespace

void images_to_columns(const at::Tensor& images, at::Tensor& columns, const SamplingPlan& plan,
                       const GeometryParams& p) {
  const int64_t pairs = images.size(0) * images.size(1);
  const int64_t image_size = p.height * p.width, column_size = p.taps() * p.out_h() * p.out_w();
  AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, images.scalar_type(), "images_to_columns", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const auto view = plan.view<acc_t>(p);
    const scalar_t* in = images.const_data_ptr<scalar_t>();
    scalar_t* out = columns.data_ptr<scalar_t>();
    at::parallel_for(0, pairs, grain_for(p), [&](int64_t begin, int64_t end) {
      std::vector<scalar_t> ext(plan.ext_h * plan.ext_w);
      for (int64_t i = begin; i < end; ++i) {
        extend_image(in + i * image_size, ext.data(), view);
        ext_to_columns(ext.data(), out + i * column_size, view);
      }
    });
  });
}

void columns_to_images(const at::Tensor& grad_columns, at::Tensor& grad_images,
                       const SamplingPlan& plan, const GeometryParams& p) {
  const int64_t pairs = grad_images.size(0) * grad_images.size(1);
  const int64_t image_size = p.height * p.width, column_size = p.taps() * p.out_h() * p.out_w();
  AT_DISPATCH_FLOATING_TYPES_AND(
      at::kBFloat16, grad_columns.scalar_type(), "columns_to_images", [&] {
        using acc_t = at::opmath_type<scalar_t>;
        const auto view = plan.view<acc_t>(p);
        const scalar_t* in = grad_columns.const_data_ptr<scalar_t>();
        acc_t* out = grad_images.data_ptr<acc_t>();
        at::parallel_for(0, pairs, grain_for(p), [&](int64_t begin, int64_t end) {
          std::vector<acc_t> ext(plan.ext_h * plan.ext_w);
          for (int64_t i = begin; i < end; ++i) {
            std::fill(ext.begin(), ext.end(), acc_t(0));
            columns_to_ext(in + i * column_size, ext.data(), view);
            fold_extended(ext.data(), out + i * image_size, view);
          }
        });
      });
}

}  // namespace cpu
}  // namespace equiconv
