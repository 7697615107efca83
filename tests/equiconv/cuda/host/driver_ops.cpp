// equi_conv2d's CUDA driver (csrc/ops/equi_conv2d/driver.h: chunks, row bands, GEMM layouts, float32 grad-weight
// sum, dtype dispatch) run on CPU tensors, with launchers that run the kernels' per-thread
// functions on the host (host_threads.h) over a plan packed as for a GPU (geometry's `packed`).
// Built with csrc/geometry.cpp by tests/equiconv/cuda/test_cuda_driver.py; its ops are torch.ops.equiconv_host.
#include <torch/library.h>

#include <cstdint>
#include <memory>

#include "host_threads.h"
#include "ops/equi_conv2d/driver.h"
#include "ops/equi_conv2d/elements.h"

namespace equiconv {
namespace cuda {
namespace {

template <typename scalar_t>
struct HostLauncher {
  using acc_t = typename Acc<scalar_t>::type;
  std::shared_ptr<const SamplingPlan> plan;
  PlanView<acc_t> view;
  bool force_wide;

  template <typename Kind>
  void run(const Kind& kind, const scalar_t* src, scalar_t* dst, int64_t channels, int64_t images) const {
    const bool wide = force_wide || !fits_int32(largest_index(view, channels, images));  // as kernels.cu
    run_threads(kind, src, dst, view, channels, images, wide);
  }
  void im2col(const scalar_t* input, scalar_t* columns, int64_t channels, int64_t images, RowBand band) const {
    run(Im2col{band}, input, columns, channels, images);
  }
  void col2im(const scalar_t* columns, scalar_t* grad_input, int64_t channels, int64_t images, RowBand band) const {
    run(Col2im{band}, columns, grad_input, channels, images);
  }
  // NaN-filled: a buffer the driver reads before overwriting it all would spoil the result.
  at::Tensor empty(at::IntArrayRef sizes, const at::TensorOptions& options) const {
    return at::full(sizes, NAN, options);
  }
};

struct HostDevice {
  bool force_wide;

  template <typename scalar_t>
  HostLauncher<scalar_t> launcher(const GeometryParams& p) const {
    using acc_t = typename Acc<scalar_t>::type;
    auto plan = std::make_shared<const SamplingPlan>(
        packed(*sampling_plan(p, c10::kCPU, c10::CppTypeToScalarType<acc_t>::value), c10::kCPU));
    const PlanView<acc_t> view = plan->template view<acc_t>(p);
    return HostLauncher<scalar_t>{std::move(plan), view, force_wide};
  }
};

Layer layer(const at::Tensor& input, const at::Tensor& weight, c10::IntArrayRef stride, c10::IntArrayRef padding,
            c10::IntArrayRef dilation, int64_t groups, c10::ArrayRef<double> lat_range, double lon_span) {
  return Layer{make_params(input.size(2), input.size(3), {weight.size(2), weight.size(3)}, stride, padding,
                           dilation, lat_range, lon_span),
               input.size(0), input.size(1), weight.size(0), groups};
}

at::Tensor host_forward(const at::Tensor& input, const at::Tensor& weight, c10::IntArrayRef stride,
                        c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
                        c10::ArrayRef<double> lat_range, double lon_span, int64_t budget, bool force_wide) {
  const Layer l = layer(input, weight, stride, padding, dilation, groups, lat_range, lon_span);
  at::Tensor out = at::full({l.batch, l.out_channels, l.p.out_h(), l.p.out_w()}, NAN, input.options());
  forward(HostDevice{force_wide}, l, input.contiguous(), weight.contiguous(), out, budget);
  return out;
}

std::tuple<at::Tensor, at::Tensor> host_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups, c10::ArrayRef<double> lat_range,
    double lon_span, int64_t budget, bool force_wide) {
  const Layer l = layer(input, weight, stride, padding, dilation, groups, lat_range, lon_span);
  at::Tensor grad_input = at::full_like(input, NAN), grad_weight = at::full_like(weight, NAN);
  backward(HostDevice{force_wide}, l, grad_output.contiguous(), input.contiguous(), weight.contiguous(),
           &grad_input, &grad_weight, budget);
  return {grad_input, grad_weight};
}

// The driver's split of a call: (images per chunk, output rows per band).
std::tuple<int64_t, int64_t> host_chunking(const at::Tensor& input, const at::Tensor& weight, c10::IntArrayRef stride,
                                           c10::IntArrayRef padding, c10::IntArrayRef dilation, int64_t groups,
                                           c10::ArrayRef<double> lat_range, double lon_span, int64_t budget,
                                           bool backward) {
  const Layer l = layer(input, weight, stride, padding, dilation, groups, lat_range, lon_span);
  int64_t chunk = 0, band = 0;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "chunking", [&] {
    const auto launcher = HostDevice{false}.launcher<scalar_t>(l.p);
    const Driver<scalar_t, decltype(launcher)> driver(l, launcher, weight, budget, backward);
    chunk = driver.chunk_images();
    band = driver.band_rows();
  });
  return {chunk, band};
}

// Threads [total - count, total) of one kernel over `images` one-channel 3x5 images of a 1x1
// layer, where thread i reads element i of its source (1x1 taps sample their own pixel) and
// writes element i. `src` holds the `count` elements those threads read, and both pointers are
// shifted so that the kernel's own index arithmetic, near the int32 limit or beyond it, lands in
// them (nothing outside is touched). Returns what the threads wrote and whether the index type
// the kernels would pick is int64.
std::tuple<at::Tensor, bool> host_last_threads(const at::Tensor& src, int64_t images, bool col2im) {
  const GeometryParams p = make_params(3, 5, {1, 1}, {1}, {0}, {1}, {90.0, -90.0}, 360.0);
  const auto launcher = HostDevice{false}.launcher<double>(p);
  const PlanView<double>& v = launcher.view;
  const int64_t total = images * p.height * p.width, count = src.numel();
  at::Tensor dst = at::full_like(src, NAN);
  const uintptr_t shift = uintptr_t(total - count) * sizeof(double);
  const auto* from = reinterpret_cast<const double*>(reinterpret_cast<uintptr_t>(src.const_data_ptr<double>()) - shift);
  auto* to = reinterpret_cast<double*>(reinterpret_cast<uintptr_t>(dst.data_ptr<double>()) - shift);
  const bool wide = !fits_int32(largest_index(v, 1, images));
  const RowBand every_row{0, p.out_h()};
  with_index_type(v, 1, images, [&](auto index) {
    using index_t = decltype(index);
    for (int64_t i = total - count; i < total; ++i) {
      if (col2im) {
        Col2im{every_row}.run<double, double, index_t>(index_t(i), from, to, v, index_t(1), index_t(images));
      } else {
        Im2col{every_row}.run<double, double, index_t>(index_t(i), from, to, v, index_t(1), index_t(images));
      }
    }
  });
  return {dst, wide};
}

// The address of the cached (CPU, float64) plan of a 3x3 layer on a full sphere, asked for as
// eager work or from a graph capture.
int64_t host_plan_address(int64_t height, int64_t width, bool capture) {
  const GeometryParams p = make_params(height, width, {3, 3}, {1}, {1}, {1}, {90.0, -90.0}, 360.0);
  const auto plan = sampling_plan(p, c10::kCPU, at::kDouble, capture ? PlanUse::kGraphCapture : PlanUse::kEager);
  return reinterpret_cast<int64_t>(plan.get());
}

}  // namespace
}  // namespace cuda
}  // namespace equiconv

TORCH_LIBRARY(equiconv_host, m) {
  using namespace equiconv::cuda;
  m.def("forward(Tensor input, Tensor weight, int[2] stride, int[2] padding, int[2] dilation, int groups, "
        "float[2] lat_range, float lon_span, int budget, bool force_wide) -> Tensor",
        &host_forward);
  m.def("backward(Tensor grad_output, Tensor input, Tensor weight, int[2] stride, int[2] padding, "
        "int[2] dilation, int groups, float[2] lat_range, float lon_span, int budget, bool force_wide) "
        "-> (Tensor, Tensor)",
        &host_backward);
  m.def("chunking(Tensor input, Tensor weight, int[2] stride, int[2] padding, int[2] dilation, int groups, "
        "float[2] lat_range, float lon_span, int budget, bool backward) -> (int, int)",
        &host_chunking);
  m.def("plan_address(int height, int width, bool capture) -> int", &host_plan_address);
  m.def("last_threads(Tensor src, int images, bool col2im) -> (Tensor, bool)", &host_last_threads);
}
