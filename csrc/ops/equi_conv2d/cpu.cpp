// CPU implementation: each image is first extended (boundary resolved) once, then processed in
// blocks of output rows. A block's columns are sampled into a per-thread buffer that stays in
// cache and consumed at once by a GEMM per group (no image-sized column buffer, no page faults).
// Backward runs the blocks in phases whose extended-image rows do not overlap, so the
// scatter into the gradient of the extended image is race-free and deterministic.
// The GEMMs are at::mm on each block's columns: single-threaded inside the block loop, MKL's sgemm
// was as fast as oneDNN 1x1 convolutions over the same columns or faster in every layer measured
// (oneDNN reorders the columns, and the weights, into its blocked layout on every call, and its
// output needs a copy).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "../../cpu/sphere_sampling.h"
#include "layer.h"

namespace equiconv {
namespace cpu {
namespace {

constexpr int64_t kBlockBytes = int64_t(2) << 20;      // target size of one block's columns
constexpr int64_t kMinBlockPixels = 256;               // keep the GEMMs wide enough
// Extended images of one batch chunk. Small enough that glibc keeps the buffer on its heap and
// reuses it: a buffer above its 32 MiB mmap limit is mapped afresh by every call, and its page
// faults (page clearing and cgroup charging included) took a third of a 4 x 64-channel 128x256
// layer's forward+backward time in perf.
constexpr int64_t kExtendedBudgetBytes = int64_t(16) << 20;

struct Blocks {
  int64_t rows, count;  // output rows per block, number of blocks
  int64_t begin(int64_t b) const { return b * rows; }
  int64_t end(int64_t b, int64_t out_h) const { return std::min(out_h, (b + 1) * rows); }
};

Blocks make_blocks(const Layer& l, int64_t element_size, int64_t images) {
  const int64_t wo = l.p.out_w(), ho = l.p.out_h();
  const int64_t column_bytes = l.in_channels * l.p.taps() * wo * element_size;  // one output row
  int64_t rows = std::max(kBlockBytes / std::max<int64_t>(column_bytes, 1),
                          (kMinBlockPixels + wo - 1) / wo);
  // Enough blocks for every thread to have work.
  const int64_t want = 2 * at::get_num_threads();
  if (images * ((ho + rows - 1) / rows) < want) rows = (ho * images + want - 1) / want;
  rows = std::clamp<int64_t>(rows, 1, ho);
  return {rows, (ho + rows - 1) / rows};
}

// Groups of blocks whose scatter targets (rows of the extended image) are pairwise disjoint.
std::vector<std::vector<int64_t>> disjoint_phases(const Layer& l, const SamplingPlan& plan,
                                                  const Blocks& blocks) {
  const int64_t taps = l.p.taps();
  const int32_t* off = plan.tap_offset.data_ptr<int32_t>();
  std::vector<std::vector<int64_t>> phases;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> spans;
  for (int64_t b = 0; b < blocks.count; ++b) {
    int64_t lo = plan.ext_h, hi = -1;
    for (int64_t k = blocks.begin(b) * taps; k < blocks.end(b, l.p.out_h()) * taps; ++k) {
      lo = std::min(lo, off[k] / plan.ext_w);
      hi = std::max(hi, off[k] / plan.ext_w + 1);
    }
    size_t phase = 0;
    for (; phase < phases.size(); ++phase) {
      const bool clash = std::any_of(spans[phase].begin(), spans[phase].end(),
                                     [&](auto s) { return lo <= s.second && s.first <= hi; });
      if (!clash) break;
    }
    if (phase == phases.size()) {
      phases.emplace_back();
      spans.emplace_back();
    }
    phases[phase].push_back(b);
    spans[phase].push_back({lo, hi});
  }
  return phases;
}

// What forward and backward both derive from one call, and the two steps they share.
template <typename scalar_t>
struct Pass {
  const Layer& l;
  std::shared_ptr<const SamplingPlan> plan;
  PlanView<scalar_t> view;
  ColumnRuns runs;
  int64_t ext_image, extended, chunk;  // one extended channel, one extended image, images a chunk
  Blocks blocks;
  at::Tensor w;                        // (groups, out/groups, k_group)

  // `like`: a tensor of the pass's device and compute dtype.
  Pass(const Layer& layer, const at::Tensor& like, const at::Tensor& weight)
      : l(layer),
        plan(sampling_plan(l.p, like.device(), like.scalar_type())),
        view(plan->view<scalar_t>(l.p)),
        runs(column_runs(view)),
        ext_image(plan->ext_h * plan->ext_w),
        extended(l.in_channels * ext_image),
        chunk(std::clamp<int64_t>(kExtendedBudgetBytes / std::max<int64_t>(1, extended * sizeof(scalar_t)),
                                  1, l.batch)),
        blocks(make_blocks(l, sizeof(scalar_t), chunk)),
        w(weight.view({l.groups, l.out_group(), l.k_group()})) {}

  // ext <- the extended images of input images [n0, n0 + nb).
  void extend(const at::Tensor& input, int64_t n0, int64_t nb, at::Tensor& ext) const {
    const int64_t image = l.p.height * l.p.width;
    const scalar_t* in = input.const_data_ptr<scalar_t>() + n0 * l.in_channels * image;
    scalar_t* out = ext.data_ptr<scalar_t>();
    at::parallel_for(0, nb * l.in_channels, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        extend_image(in + i * image, out + i * ext_image, view, runs);
      }
    });
  }

  // One columns buffer per thread (thread t's is row t), allocated once per call rather than per
  // parallel region: a fresh 2 MiB buffer is a fresh set of page faults. `extra_rows` rows of a
  // block's pixels follow its columns.
  at::Tensor column_buffers(const at::TensorOptions& options, int64_t extra_rows = 0) const {
    const int64_t rows = l.in_channels * l.p.taps() + extra_rows;
    return at::empty({at::get_num_threads(), rows * blocks.rows * l.p.out_w()}, options);
  }

  // The span [first, first + count) of an extended channel that output rows [r0, r1) touch.
  std::pair<int64_t, int64_t> footprint(int64_t r0, int64_t r1) const {
    const int32_t* off = view.tap_offset;
    const auto [lo, hi] = std::minmax_element(off + r0 * view.taps, off + r1 * view.taps);
    return {*lo, *hi - *lo + view.ext_w + (view.out_w - 1) * view.stride_w + 2};
  }

  // columns (in_channels * taps, pixels) of output rows [r0, r1) of extended image n.
  void sample(const at::Tensor& ext, int64_t n, scalar_t* columns, int64_t r0, int64_t r1) const {
    const scalar_t* image = ext.const_data_ptr<scalar_t>() + n * extended;
    const int64_t per_channel = l.p.taps() * (r1 - r0) * l.p.out_w();
    const auto [first, count] = footprint(r0, r1);
    for (int64_t c = 0; c < l.in_channels; ++c) {
      if (c + 1 < l.in_channels) prefetch<false>(image + (c + 1) * ext_image + first, count);
      ext_to_columns(image + c * ext_image, columns + c * per_channel, view, r0, r1);
    }
  }

  // grad_ext of image n += the adjoint of sample (grad_columns as sample's columns).
  void scatter(const scalar_t* grad_columns, scalar_t* grad_ext, int64_t n, int64_t r0,
               int64_t r1) const {
    scalar_t* image = grad_ext + n * extended;
    const int64_t per_channel = l.p.taps() * (r1 - r0) * l.p.out_w();
    const auto [first, count] = footprint(r0, r1);
    for (int64_t c = 0; c < l.in_channels; ++c) {
      if (c + 1 < l.in_channels) prefetch<true>(image + (c + 1) * ext_image + first, count);
      columns_to_ext(grad_columns + c * per_channel, image + c * ext_image, view, r0, r1);
    }
  }

  // The weights with the bias as a last column, where the forward GEMM takes the bias that way;
  // undefined otherwise. at::mm has no bias of its own and addmm first copies it into the output,
  // one more pass over it; with one group and fewer weights per output channel than output pixels,
  // the bias rides instead against a row of ones under each block's columns.
  at::Tensor weight_with_bias(const at::Tensor& bias) const {
    const bool fits = bias.defined() && l.groups == 1 && l.k_group() < l.batch * l.p.out_h() * l.p.out_w();
    return fits ? at::cat({w[0], bias.view({-1, 1})}, 1) : at::Tensor();
  }

  // dst (out_channels, pixels) = W x a block's columns (+ bias, if defined), read from a thread's
  // columns buffer as sample wrote them; weight_bias from weight_with_bias (the buffer then has a
  // row to spare after the columns).
  void project(const at::Tensor& columns, int64_t pixels, at::Tensor dst, const at::Tensor& bias,
               const at::Tensor& weight_bias) const {
    const int64_t kt = l.in_channels * l.p.taps();
    if (weight_bias.defined()) {
      scalar_t* ones = columns.data_ptr<scalar_t>() + kt * pixels;
      std::fill(ones, ones + pixels, scalar_t(1));
      at::mm_out(dst, weight_bias, columns.narrow(0, 0, (kt + 1) * pixels).view({kt + 1, pixels}));
      return;
    }
    const at::Tensor cols = columns.narrow(0, 0, kt * pixels).view({l.groups, l.k_group(), pixels});
    const at::Tensor d = dst.view({l.groups, l.out_group(), -1});
    for (int64_t g = 0; g < l.groups; ++g) {
      at::Tensor dg = d[g];
      if (bias.defined()) {
        at::addmm_out(dg, bias.view({l.groups, l.out_group(), 1})[g], w[g], cols[g]);
      } else {
        at::mm_out(dg, w[g], cols[g]);
      }
    }
  }

  // cols (groups, k_group, pixels) = W^T x go per group; go (groups, out/groups, pixels).
  void back_project(const at::Tensor& go, at::Tensor& cols) const {
    for (int64_t g = 0; g < l.groups; ++g) {
      at::Tensor d = cols[g];
      at::mm_out(d, w[g].t(), go[g]);
    }
  }

  // acc (groups, out/groups, k_group) += go x cols^T per group.
  void accumulate_weight_grad(at::Tensor& acc, const at::Tensor& go, const at::Tensor& cols) const {
    for (int64_t g = 0; g < l.groups; ++g) {
      at::Tensor a = acc[g];
      at::addmm_out(a, a, go[g], cols[g].t());
    }
  }
};

template <typename scalar_t>
void forward_impl(const Layer& l, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                  at::Tensor& out) {
  const Pass<scalar_t> pass(l, input, weight);
  const Blocks& blocks = pass.blocks;
  const int64_t wo = l.p.out_w();
  at::Tensor ext = at::empty({pass.chunk * pass.extended}, input.options());
  const at::Tensor weight_bias = pass.weight_with_bias(bias);
  const at::Tensor buffers = pass.column_buffers(input.options(), weight_bias.defined() ? 1 : 0);
  for (int64_t n0 = 0; n0 < l.batch; n0 += pass.chunk) {
    const int64_t nb = std::min(pass.chunk, l.batch - n0);
    pass.extend(input, n0, nb, ext);
    at::parallel_for(0, nb * blocks.count, 1, [&](int64_t begin, int64_t end) {
      const at::Tensor columns = buffers[at::get_thread_num()];
      for (int64_t item = begin; item < end; ++item) {
        const int64_t n = item / blocks.count, blk = item % blocks.count;
        const int64_t r0 = blocks.begin(blk), r1 = blocks.end(blk, l.p.out_h()), pixels = (r1 - r0) * wo;
        pass.sample(ext, n, columns.data_ptr<scalar_t>(), r0, r1);
        pass.project(columns, pixels, out[n0 + n].view({l.out_channels, -1}).narrow(1, r0 * wo, pixels), bias,
                     weight_bias);
      }
    });
  }
}

template <typename scalar_t>
void backward_impl(const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
                   const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight) {
  const Pass<scalar_t> pass(l, grad_output, weight);  // input is undefined without grad_weight
  const Blocks& blocks = pass.blocks;
  const int64_t wo = l.p.out_w(), kt = l.in_channels * l.p.taps();
  const auto options = grad_output.options();
  std::vector<std::vector<int64_t>> phases;
  if (grad_input) {
    phases = disjoint_phases(l, *pass.plan, blocks);
  } else {  // only grad weight: no scatter, every block at once
    phases.emplace_back(blocks.count);
    for (int64_t b = 0; b < blocks.count; ++b) phases[0][b] = b;
  }
  const int64_t threads = at::get_num_threads();
  at::Tensor gw_partial;  // one accumulator per thread, summed at the end: deterministic
  if (grad_weight) gw_partial = at::zeros({threads, l.groups, l.out_group(), l.k_group()}, options);
  at::Tensor ext = at::empty({grad_weight ? pass.chunk * pass.extended : 0}, options);
  at::Tensor grad_ext = at::empty({grad_input ? pass.chunk * pass.extended : 0}, options);
  const at::Tensor buffers = pass.column_buffers(options);

  for (int64_t n0 = 0; n0 < l.batch; n0 += pass.chunk) {
    const int64_t nb = std::min(pass.chunk, l.batch - n0);
    if (grad_weight) pass.extend(input, n0, nb, ext);
    if (grad_input) grad_ext.zero_();
    for (const auto& phase : phases) {
      const int64_t items = nb * static_cast<int64_t>(phase.size());
      at::parallel_for(0, items, 1, [&](int64_t begin, int64_t end) {
        const at::Tensor columns = buffers[at::get_thread_num()];
        at::Tensor gw_thread = grad_weight ? gw_partial[at::get_thread_num()] : at::Tensor();
        for (int64_t item = begin; item < end; ++item) {
          const int64_t n = item / static_cast<int64_t>(phase.size());
          const int64_t blk = phase[item % phase.size()];
          const int64_t r0 = blocks.begin(blk), r1 = blocks.end(blk, l.p.out_h()), pixels = (r1 - r0) * wo;
          const at::Tensor go = grad_output[n0 + n].view({l.groups, l.out_group(), -1}).narrow(2, r0 * wo, pixels);
          at::Tensor cols = columns.narrow(0, 0, kt * pixels).view({l.groups, l.k_group(), pixels});
          if (grad_weight) {
            pass.sample(ext, n, columns.data_ptr<scalar_t>(), r0, r1);
            pass.accumulate_weight_grad(gw_thread, go, cols);
          }
          if (grad_input) {
            pass.back_project(go, cols);
            pass.scatter(cols.const_data_ptr<scalar_t>(), grad_ext.data_ptr<scalar_t>(), n, r0, r1);
          }
        }
      });
    }
    if (grad_input) {
      const int64_t image = l.p.height * l.p.width;
      scalar_t* gi = grad_input->data_ptr<scalar_t>() + n0 * l.in_channels * image;
      const scalar_t* ge = grad_ext.const_data_ptr<scalar_t>();
      at::parallel_for(0, nb * l.in_channels, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          fold_extended(ge + i * pass.ext_image, gi + i * image, pass.view, pass.runs);
        }
      });
    }
  }
  if (grad_weight) grad_weight->view({l.groups, l.out_group(), l.k_group()}).copy_(gw_partial.sum(0));
}

}  // namespace
}  // namespace cpu

void conv2d_forward(Cpu, const Layer& l, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                    at::Tensor& out) {
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "equi_conv2d_forward_cpu",
                             [&] { cpu::forward_impl<scalar_t>(l, input, weight, bias, out); });
}

void conv2d_backward(Cpu, const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
                     const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight) {
  AT_DISPATCH_FLOATING_TYPES(grad_output.scalar_type(), "equi_conv2d_backward_cpu", [&] {
    cpu::backward_impl<scalar_t>(l, grad_output, input, weight, grad_input, grad_weight);
  });
}

}  // namespace equiconv
