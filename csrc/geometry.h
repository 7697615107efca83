// Geometry of the equirectangular convolution: the parameters of a layer, the row table
// of docs/geometry.md ("Tangent-plane taps"), and the sampling plan the kernels read (cached per layer).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/Event.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <optional>
#include <vector>

#include "plan_view.h"

namespace equiconv {

struct GeometryParams {
  int64_t height, width;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  int64_t dil_h, dil_w;
  double lat_top, lat_bottom, lon_span;  // degrees

  int64_t out_h() const { return (height + 2 * pad_h - dil_h * (kernel_h - 1) - 1) / stride_h + 1; }
  int64_t out_w() const { return (width + 2 * pad_w - dil_w * (kernel_w - 1) - 1) / stride_w + 1; }
  int64_t taps() const { return kernel_h * kernel_w; }
  bool full_longitude() const;
  bool full_sphere() const;
  bool operator==(const GeometryParams& o) const;
};

// Validates everything and throws a c10::Error naming the offending argument.
GeometryParams make_params(
    int64_t height, int64_t width, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
    double lon_span);

// y_s and x_s - q*s_w for every (output row, tap), row-major over (out_h, kernel_h, kernel_w).
struct RowTable {
  std::vector<double> rows, cols;
};
RowTable row_table(const GeometryParams& p);

// What the kernels need, held as tensors on the target device. The per-channel image is first
// copied into an "extended" buffer of ext_h x ext_w that already contains the spherical
// boundary (wrapped columns, rows across the poles, zeros), so sampling needs no branches.
struct SamplingPlan {
  int64_t ext_h = 0, ext_w = 0;
  at::Tensor tap_offset;     // int32 [out_h * taps]: top-left neighbour of the tap in the ext buffer
  at::Tensor tap_weight;     // compute dtype [out_h * taps * 4]: bilinear weights
  at::Tensor ext_row_src;    // int32 [ext_h]: source row, or -1 for a zero row
  at::Tensor ext_row_shift;  // int32 [ext_h]: 1 where the row comes across a pole (half-turn)
  at::Tensor ext_col_src;    // int32 [2 * ext_w]: source column (unshifted, half-turn), or -1
  // Inverse tables for gathers (see PlanView): which extended positions and taps read what.
  at::Tensor tap_rc, src_row_start, src_row_ext, src_col_start, src_col_ext, entry_start, entry;

  // On a GPU: the one device buffer every table above is a view of, and the event that marks
  // the end of its copy (queued on the stream current when the plan was built).
  at::Tensor storage;
  std::optional<c10::Event> ready;

  // Every table, named, in a fixed order (for moving to a device and for inspection).
  std::vector<std::pair<const char*, at::Tensor*>> tables();
  std::vector<std::pair<const char*, const at::Tensor*>> tables() const;

  template <typename scalar_t>
  PlanView<scalar_t> view(const GeometryParams& p) const {
    return PlanView<scalar_t>{p.height,
                           p.width,
                           p.out_h(),
                           p.out_w(),
                           p.taps(),
                           p.stride_w,
                           ext_h,
                           ext_w,
                           tap_offset.data_ptr<int32_t>(),
                           tap_weight.data_ptr<scalar_t>(),
                           ext_row_src.data_ptr<int32_t>(),
                           ext_row_shift.data_ptr<int32_t>(),
                           ext_col_src.data_ptr<int32_t>(),
                           tap_rc.data_ptr<int32_t>(),
                           src_row_start.data_ptr<int32_t>(),
                           src_row_ext.data_ptr<int32_t>(),
                           src_col_start.data_ptr<int32_t>(),
                           src_col_ext.data_ptr<int32_t>(),
                           entry_start.data_ptr<int32_t>(),
                           entry.data_ptr<int32_t>()};
  }
};

// A copy of plan's tables packed into one buffer on `device` (plan.storage, tables as views of
// it): staged in one host buffer (pinned for a GPU) and copied to a GPU at once, without
// blocking, on the current stream, with `ready` recorded after the copy.
SamplingPlan packed(const SamplingPlan& plan, c10::Device device);

// What a plan is asked for: eager work, or the capture of a CUDA graph, which may replay the
// plan's pointers at any later time: there a plan must already exist (its copy is not captured;
// a miss is a clear error) and it is never evicted from then on.
enum class PlanUse { kEager, kGraphCapture };

// Cached per (params, device, compute dtype of the kernels): the 256 most recently used plans,
// plus those used in graph captures. Safe to call from several threads.
std::shared_ptr<const SamplingPlan> sampling_plan(
    const GeometryParams& p, c10::Device device, c10::ScalarType dtype, PlanUse use = PlanUse::kEager);

}  // namespace equiconv
