// Pooling on CPU, one (image, channel) plane per task: the plane is extended once (boundary
// resolved), its taps sampled a block of output rows at a time into a small buffer that stays in
// cache, and reduced over the taps. The backward scatters into the plane's own extended gradient
// and folds it back, so tasks never share memory: race-free and deterministic.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "../../cpu/sphere_sampling.h"
#include "pool.h"

namespace equiconv {
namespace cpu {
namespace {

constexpr int64_t kBlockElements = 16384;  // one block's samples: taps x rows x out_w

// What forward and backward derive from the layer: its plan (kept alive), the plan's view and
// column runs, and the sizes of a plane, its extended copy and a block.
template <typename scalar_t>
struct PoolPass {
  std::shared_ptr<const SamplingPlan> plan;
  PlanView<scalar_t> v;
  ColumnRuns runs;
  int64_t ext_image, rows, image, pixels;  // extended plane; output rows per block; input, output plane

  PoolPass(const Pool& pool, const at::Tensor& like)
      : plan(sampling_plan(pool.p, like.device(), like.scalar_type())),
        v(plan->view<scalar_t>(pool.p)),
        runs(column_runs(v)),
        ext_image(v.ext_h * v.ext_w),
        rows(std::clamp<int64_t>(kBlockElements / std::max<int64_t>(1, v.taps * v.out_w), 1, v.out_h)),
        image(v.height * v.width),
        pixels(v.out_h * v.out_w) {}
};

// Whether a beats the best so far: larger, or a NaN where the best is a number (NaN propagates,
// as in nn.MaxPool2d); earlier taps win ties.
template <typename scalar_t>
bool beats(scalar_t a, scalar_t best) {
  return a > best || (std::isnan(a) && !std::isnan(best));
}

template <typename scalar_t>
void forward_impl(const Pool& pool, const at::Tensor& input, at::Tensor& out, at::Tensor* indices) {
  const PoolPass<scalar_t> pass(pool, input);
  const PlanView<scalar_t>& v = pass.v;
  const int64_t image = pass.image, pixels = pass.pixels, taps = v.taps;
  const scalar_t* in = input.const_data_ptr<scalar_t>();
  scalar_t* dst = out.data_ptr<scalar_t>();
  int64_t* winners = indices ? indices->data_ptr<int64_t>() : nullptr;
  at::parallel_for(0, pool.planes(), 1, [&](int64_t begin, int64_t end) {
    std::vector<scalar_t> ext(pass.ext_image), samples(taps * pass.rows * v.out_w);
    for (int64_t plane = begin; plane < end; ++plane) {
      extend_image(in + plane * image, ext.data(), v, pass.runs);
      for (int64_t r0 = 0; r0 < v.out_h; r0 += pass.rows) {
        const int64_t r1 = std::min(v.out_h, r0 + pass.rows), span = (r1 - r0) * v.out_w;
        ext_to_columns(ext.data(), samples.data(), v, r0, r1);  // samples[t][r - r0][q]
        scalar_t* o = dst + plane * pixels + r0 * v.out_w;
        if (winners) {
          int64_t* w = winners + plane * pixels + r0 * v.out_w;
          std::copy(samples.data(), samples.data() + span, o);
          std::fill(w, w + span, 0);
          for (int64_t t = 1; t < taps; ++t) {
            const scalar_t* s = samples.data() + t * span;
            for (int64_t i = 0; i < span; ++i) {
              if (beats(s[i], o[i])) {
                o[i] = s[i];
                w[i] = t;
              }
            }
          }
        } else {
          std::copy(samples.data(), samples.data() + span, o);
          for (int64_t t = 1; t < taps; ++t) {
            const scalar_t* s = samples.data() + t * span;
            for (int64_t i = 0; i < span; ++i) o[i] += s[i];
          }
          const scalar_t scale = scalar_t(1) / scalar_t(taps);
          for (int64_t i = 0; i < span; ++i) o[i] *= scale;
        }
      }
    }
  });
}

template <typename scalar_t>
void backward_impl(const Pool& pool, const at::Tensor& grad_output, const at::Tensor* indices,
                   at::Tensor& grad_input) {
  const PoolPass<scalar_t> pass(pool, grad_output);
  const PlanView<scalar_t>& v = pass.v;
  const int64_t image = pass.image, pixels = pass.pixels, taps = v.taps;
  const scalar_t* go = grad_output.const_data_ptr<scalar_t>();
  const int64_t* winners = indices ? indices->const_data_ptr<int64_t>() : nullptr;
  scalar_t* gi = grad_input.data_ptr<scalar_t>();
  const scalar_t scale = scalar_t(1) / scalar_t(taps);
  at::parallel_for(0, pool.planes(), 1, [&](int64_t begin, int64_t end) {
    std::vector<scalar_t> grad_ext(pass.ext_image), grads(taps * pass.rows * v.out_w);
    for (int64_t plane = begin; plane < end; ++plane) {
      std::fill(grad_ext.begin(), grad_ext.end(), scalar_t(0));
      for (int64_t r0 = 0; r0 < v.out_h; r0 += pass.rows) {
        const int64_t r1 = std::min(v.out_h, r0 + pass.rows), span = (r1 - r0) * v.out_w;
        const scalar_t* g = go + plane * pixels + r0 * v.out_w;
        for (int64_t t = 0; t < taps; ++t) {
          scalar_t* d = grads.data() + t * span;
          if (winners) {
            const int64_t* w = winners + plane * pixels + r0 * v.out_w;
            for (int64_t i = 0; i < span; ++i) d[i] = w[i] == t ? g[i] : scalar_t(0);
          } else {
            for (int64_t i = 0; i < span; ++i) d[i] = g[i] * scale;
          }
        }
        columns_to_ext(grads.data(), grad_ext.data(), v, r0, r1);
      }
      fold_extended(grad_ext.data(), gi + plane * image, v, pass.runs);
    }
  });
}

}  // namespace
}  // namespace cpu

void pool2d_forward(Cpu, const Pool& pool, const at::Tensor& input, at::Tensor& out, at::Tensor* indices) {
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "equi_pool2d_forward_cpu",
                             [&] { cpu::forward_impl<scalar_t>(pool, input, out, indices); });
}

void pool2d_backward(Cpu, const Pool& pool, const at::Tensor& grad_output, const at::Tensor* indices,
                     at::Tensor& grad_input) {
  AT_DISPATCH_FLOATING_TYPES(grad_output.scalar_type(), "equi_pool2d_backward_cpu",
                             [&] { cpu::backward_impl<scalar_t>(pool, grad_output, indices, grad_input); });
}

}  // namespace equiconv
