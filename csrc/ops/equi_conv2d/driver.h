// The device-agnostic half of equi_conv2d's CUDA implementation: chunks of images (or bands of
// output rows, when one image's columns exceed the budget), the GEMM layouts around the sampling
// kernels, the float32 sum of the grad weight and the dtype dispatch, written once over a Device
// whose launchers run the kernels. cuda.cpp launches the CUDA kernels (kernels.cu);
// tests/equiconv/cuda/host/ runs the same per-thread functions (elements.h) on CPU tensors, so
// that everything here is executed in CI without a GPU.
//
// A Device has `template <typename scalar_t> Launcher launcher(const GeometryParams&) const`; the
// launcher keeps its plan alive and has
//   im2col(const scalar_t* input, scalar_t* columns, int64_t channels, int64_t images, RowBand) const,
//   col2im(const scalar_t* columns, scalar_t* grad_input, int64_t channels, int64_t images, RowBand) const
//   (elements.h's kernels over the output rows of the band), and
//   at::Tensor empty(at::IntArrayRef sizes, const at::TensorOptions&) const: a buffer that the
//   driver overwrites entirely before reading it (never filled, even in deterministic mode).
#pragma once

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../cuda/acc.h"
#include "elements.h"
#include "layer.h"

namespace equiconv {
namespace cuda {

// What one chunk of images (or band of one image's output rows) may allocate, all buffers together.
constexpr int64_t kChunkBudgetBytes = int64_t(1) << 30;

// Whether this torch has bmm with an out_dtype (reduced precision in, float32 out, on CUDA).
template <typename T, typename = void>
struct HasBmmOutDtype : std::false_type {};
template <typename T>
struct HasBmmOutDtype<T, std::void_t<decltype(at::bmm(std::declval<T>(), std::declval<T>(), at::kFloat))>>
    : std::true_type {};

// acc += a @ b in acc's dtype: reduced-precision products are never rounded to (or overflow in)
// float16/bfloat16 before they are summed. (A template so that the discarded branch is not
// compiled where torch lacks bmm's out_dtype.)
template <typename T>
void add_bmm(at::Tensor& acc, const T& a, const T& b) {
  const auto dtype = acc.scalar_type();
  if (a.scalar_type() == dtype) return void(acc.baddbmm_(a, b));
  if constexpr (HasBmmOutDtype<T>::value) {
    if (a.is_cuda()) return void(acc.add_(at::bmm(a, b, dtype)));
  }
  acc.baddbmm_(a.to(dtype), b.to(dtype));
}

template <typename scalar_t, typename Launcher>
class Driver {
 public:
  using acc_t = typename Acc<scalar_t>::type;

  Driver(const Layer& layer, const Launcher& launcher, const at::Tensor& weight, int64_t budget, bool backward)
      : l(layer),
        launch(launcher),
        pixels(l.p.out_h() * l.p.out_w()),
        image(l.in_channels * l.p.height * l.p.width),
        chunk(images_per_chunk(budget, backward)),
        band(rows_per_band(budget, backward)),
        w(weight.view({l.groups, l.out_group(), l.k_group()})) {}

  int64_t chunk_images() const { return chunk; }
  // Output rows per band: all of them unless one image's buffers exceed the budget.
  int64_t band_rows() const { return band; }

  void forward(const at::Tensor& input, at::Tensor& out) const {
    for (int64_t n0 = 0; n0 < l.batch; n0 += chunk) {
      const int64_t nb = std::min(chunk, l.batch - n0);
      for (const RowBand rows : bands()) {
        const at::Tensor cols = columns(input, n0, nb, rows);
        if (nb == 1) {  // one image: the GEMM's (groups, out/groups, band pixels) is the output's layout
          at::Tensor target = out.narrow(0, n0, 1).view({l.groups, l.out_group(), pixels})
                                  .narrow(2, rows.begin * l.p.out_w(), rows.rows() * l.p.out_w());
          at::bmm_out(target, w, cols);
        } else {  // several images: never banded
          out.narrow(0, n0, nb).copy_(from_gemm(at::bmm(w, cols), nb));
        }
      }
    }
  }

  // input may be undefined when no grad_weight is asked for.
  void backward(const at::Tensor& grad_output, const at::Tensor& input, at::Tensor* grad_input,
                at::Tensor* grad_weight) const {
    const auto acc_options = grad_output.options().dtype(c10::CppTypeToScalarType<acc_t>::value);
    at::Tensor gw_acc;
    if (grad_weight) gw_acc = at::zeros({l.groups, l.out_group(), l.k_group()}, acc_options);
    const std::vector<RowBand> image_bands = bands();
    // A banded image's grad input is the sum of its bands' adjoints: each written to `part`
    // (overwritten by col2im) and summed in the accumulation dtype.
    const bool banded = image_bands.size() > 1;
    at::Tensor part, sum;
    if (grad_input && banded) {
      part = launch.empty({image}, grad_output.options());
      sum = launch.empty({image}, acc_options);  // the first band copies into it
    }
    for (int64_t n0 = 0; n0 < l.batch; n0 += chunk) {
      const int64_t nb = std::min(chunk, l.batch - n0);
      scalar_t* gi = grad_input ? grad_input->data_ptr<scalar_t>() + n0 * image : nullptr;
      for (const RowBand rows : image_bands) {
        const at::Tensor go = to_gemm(grad_output, n0, nb, rows);
        at::Tensor cols;
        if (grad_weight) {
          cols = columns(input, n0, nb, rows);
          add_bmm<at::Tensor>(gw_acc, go, cols.transpose(1, 2));
        }
        if (grad_input) {
          // The grad columns (groups, k_group, nb * band pixels) reuse the columns' memory.
          if (!cols.defined()) {
            cols = launch.empty({l.groups, l.k_group(), nb * rows.rows() * l.p.out_w()}, grad_output.options());
          }
          at::bmm_out(cols, w.transpose(1, 2), go);
          launch.col2im(cols.const_data_ptr<scalar_t>(), banded ? part.data_ptr<scalar_t>() : gi, l.in_channels,
                        nb, rows);
          if (banded && rows.begin == 0) {
            sum.copy_(part);
          } else if (banded) {
            sum.add_(part);
          }
        }
      }
      if (grad_input && banded) grad_input->narrow(0, n0, 1).view({image}).copy_(sum);
    }
    if (grad_weight) grad_weight->view({l.groups, l.out_group(), l.k_group()}).copy_(gw_acc);
  }

 private:
  const Layer& l;
  const Launcher& launch;
  const int64_t pixels, image;  // output pixels per channel, input elements per image
  const int64_t chunk;          // images per chunk (computed from the members above)
  const int64_t band;           // output rows per band (likewise)
  const at::Tensor w;           // (groups, out/groups, k_group)

  // What a chunk allocates per output row of one image: forward: columns and GEMM product;
  // backward: columns (reused for the grad columns) and the grad output in GEMM layout, plus
  // float32 copies of both for a reduced precision's grad weight.
  int64_t bytes_per_row(bool backward) const {
    const int64_t cols = l.in_channels * l.p.taps() * l.p.out_w(), outs = l.out_channels * l.p.out_w();
    int64_t bytes = (cols + outs) * int64_t(sizeof(scalar_t));
    if (backward && !std::is_same_v<scalar_t, acc_t>) bytes += (cols + outs) * int64_t(sizeof(acc_t));
    return bytes;
  }

  // Images per chunk so that everything a chunk allocates fits the budget (one image at least).
  int64_t images_per_chunk(int64_t budget, bool backward) const {
    const int64_t bytes = bytes_per_row(backward) * l.p.out_h();
    return std::clamp<int64_t>(budget / std::max<int64_t>(1, bytes), 1, std::max<int64_t>(1, l.batch));
  }

  // Output rows per band: every row when one image fits the budget; otherwise as many as fit
  // beside a banded backward's two image-sized grad-input sums (one row at least).
  int64_t rows_per_band(int64_t budget, bool backward) const {
    const int64_t per_row = bytes_per_row(backward), out_h = l.p.out_h();
    if (per_row * out_h <= budget) return std::max<int64_t>(1, out_h);
    const int64_t sums = backward ? image * int64_t(sizeof(scalar_t) + sizeof(acc_t)) : 0;
    return std::clamp<int64_t>((budget - sums) / per_row, 1, out_h);
  }

  // The output rows of an image, in bands of `band` rows.
  std::vector<RowBand> bands() const {
    std::vector<RowBand> all;
    for (int64_t r = 0; r < l.p.out_h(); r += band) all.push_back(RowBand{r, std::min(r + band, l.p.out_h())});
    return all;
  }

  // (groups, k_group, nb * band pixels) columns of images [n0, n0 + nb), output rows `rows`.
  at::Tensor columns(const at::Tensor& input, int64_t n0, int64_t nb, RowBand rows) const {
    at::Tensor cols = launch.empty({l.groups, l.k_group(), nb * rows.rows() * l.p.out_w()}, input.options());
    launch.im2col(input.const_data_ptr<scalar_t>() + n0 * image, cols.data_ptr<scalar_t>(), l.in_channels, nb,
                  rows);
    return cols;
  }

  // Output-shaped (nb, C, Ho, Wo), rows `rows`, <-> GEMM-shaped (groups, C / groups, nb * band pixels):
  // a view for one whole image, else a copy (into a buffer that skips the deterministic fill).
  at::Tensor to_gemm(const at::Tensor& t, int64_t n0, int64_t nb, RowBand rows) const {
    const int64_t band_pixels = rows.rows() * l.p.out_w();
    const at::Tensor part = t.narrow(0, n0, nb).narrow(2, rows.begin, rows.rows()).transpose(0, 1);
    if (nb == 1 && rows.rows() == l.p.out_h()) return part.view({l.groups, l.out_group(), band_pixels});
    at::Tensor gemm = launch.empty({l.groups, l.out_group(), nb * band_pixels}, t.options());
    gemm.view({l.out_channels, nb, rows.rows(), l.p.out_w()}).copy_(part);
    return gemm;
  }
  at::Tensor from_gemm(const at::Tensor& t, int64_t nb) const {
    return t.view({l.out_channels, nb, l.p.out_h(), l.p.out_w()}).transpose(0, 1);
  }
};

// The operator's forward and backward on `device`, for every dtype the kernels take.
template <typename Device>
void forward(const Device& device, const Layer& l, const at::Tensor& input, const at::Tensor& weight,
             at::Tensor& out, int64_t budget = kChunkBudgetBytes) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "equi_conv2d_forward_cuda", [&] {
    const auto launcher = device.template launcher<scalar_t>(l.p);
    Driver<scalar_t, decltype(launcher)>(l, launcher, weight, budget, false).forward(input, out);
  });
}

template <typename Device>
void backward(const Device& device, const Layer& l, const at::Tensor& grad_output, const at::Tensor& input,
              const at::Tensor& weight, at::Tensor* grad_input, at::Tensor* grad_weight,
              int64_t budget = kChunkBudgetBytes) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_output.scalar_type(), "equi_conv2d_backward_cuda", [&] {
    const auto launcher = device.template launcher<scalar_t>(l.p);
    Driver<scalar_t, decltype(launcher)>(l, launcher, weight, budget, true)
        .backward(grad_output, input, grad_input, grad_weight);
  });
}

}  // namespace cuda
}  // namespace equiconv
