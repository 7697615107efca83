// The geometry contract of docs/geometry.md ("Tangent-plane taps", "Bilinear taps and the boundary
// rules"), in one place: parameter checks, the gnomonic row table, and the sampling plan derived from
// it (with a small cache keyed by layer and device).
#include "geometry.h"

#include <ATen/ATen.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <list>
#include <mutex>
#include <tuple>

namespace equiconv {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;
constexpr double kEps = 1e-9;
constexpr double kMinPixelDeg = 1e-10;  // keep in step with equiconv/_checks.py MIN_PIXEL_DEG

// Positions within kOnGrid pixels of a pixel centre are taken as on it, so that a tap the
// geometry puts on the grid (the kernel's centre, its central column) reads one pixel with
// weight 1 and no neighbour with a weight of 1e-16 (which would still spread a NaN there, and
// would depend on the last bit of atan). Keep in step with equiconv/reference/sampling.py.
constexpr double kOnGrid = 1e-10;

double on_grid(double v) {
  const double nearest = std::nearbyint(v);
  return std::abs(v - nearest) < kOnGrid ? nearest : v;
}

// Only for values already clamped to the image's neighbourhood: the cast cannot overflow.
int64_t floor_to_int(double v) {
  TORCH_INTERNAL_ASSERT(std::abs(v) < 9e15, "equiconv: sample position ", v, " out of range");
  return static_cast<int64_t>(std::floor(v));
}

std::pair<int64_t, int64_t> pair_arg(c10::IntArrayRef v, const char* name) {
  TORCH_CHECK_VALUE(v.size() == 1 || v.size() == 2, name, " must have 1 or 2 elements, got ",
                    v.size());
  return {v[0], v.size() == 2 ? v[1] : v[0]};
}

}  // namespace

bool GeometryParams::full_longitude() const { return std::abs(lon_span - 360.0) < kEps; }

bool GeometryParams::full_sphere() const {
  return full_longitude() && std::abs(lat_top - 90.0) < kEps && std::abs(lat_bottom + 90.0) < kEps;
}

bool GeometryParams::operator==(const GeometryParams& o) const {
  return std::tie(height, width, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dil_h,
                  dil_w, lat_top, lat_bottom, lon_span) ==
         std::tie(o.height, o.width, o.kernel_h, o.kernel_w, o.stride_h, o.stride_w, o.pad_h,
                  o.pad_w, o.dil_h, o.dil_w, o.lat_top, o.lat_bottom, o.lon_span);
}

GeometryParams make_params(
    int64_t height, int64_t width, c10::IntArrayRef kernel_size, c10::IntArrayRef stride,
    c10::IntArrayRef padding, c10::IntArrayRef dilation, c10::ArrayRef<double> lat_range,
    double lon_span) {
  GeometryParams p{};
  p.height = height;
  p.width = width;
  std::tie(p.kernel_h, p.kernel_w) = pair_arg(kernel_size, "kernel_size");
  std::tie(p.stride_h, p.stride_w) = pair_arg(stride, "stride");
  std::tie(p.pad_h, p.pad_w) = pair_arg(padding, "padding");
  std::tie(p.dil_h, p.dil_w) = pair_arg(dilation, "dilation");
  TORCH_CHECK_VALUE(lat_range.size() == 2, "lat_range must be (top_deg, bottom_deg)");
  p.lat_top = lat_range[0];
  p.lat_bottom = lat_range[1];
  p.lon_span = lon_span;

  TORCH_CHECK_VALUE(height > 0 && width > 0, "input height and width must be positive, got ",
                    height, "x", width);
  TORCH_CHECK_VALUE(p.kernel_h > 0 && p.kernel_w > 0, "kernel_size must be positive");
  TORCH_CHECK_VALUE(p.stride_h > 0 && p.stride_w > 0, "stride must be positive");
  TORCH_CHECK_VALUE(p.pad_h >= 0 && p.pad_w >= 0, "padding must be non-negative");
  TORCH_CHECK_VALUE(p.dil_h > 0 && p.dil_w > 0, "dilation must be positive");
  TORCH_CHECK_VALUE(p.lat_top <= 90.0 && p.lat_bottom >= -90.0 && p.lat_top > p.lat_bottom,
                    "lat_range must satisfy 90 >= top > bottom >= -90, got (", p.lat_top, ", ",
                    p.lat_bottom, ")");
  TORCH_CHECK_VALUE(lon_span > 0.0 && lon_span <= 360.0, "lon_span must be in (0, 360], got ",
                    lon_span);
  TORCH_CHECK_VALUE((p.lat_top - p.lat_bottom) / height >= kMinPixelDeg,
                    "lat_range (", p.lat_top, ", ", p.lat_bottom, ") over height ", height,
                    " gives pixels under ", kMinPixelDeg, " degrees: too small to compute in float64");
  TORCH_CHECK_VALUE(lon_span / width >= kMinPixelDeg, "lon_span ", lon_span, " over width ", width,
                    " gives pixels under ", kMinPixelDeg, " degrees: too small to compute in float64");
  TORCH_CHECK_VALUE((p.lat_top - p.lat_bottom) / height < 90.0,
                    "input height ", height, " is too small for lat_range: a pixel must span "
                    "less than 90 degrees of latitude");
  TORCH_CHECK_VALUE(lon_span / width < 90.0, "input width ", width,
                    " is too small for lon_span: a pixel must span less than 90 degrees of "
                    "longitude");
  TORCH_CHECK_VALUE(p.out_h() > 0 && p.out_w() > 0 &&
                        height + 2 * p.pad_h >= p.dil_h * (p.kernel_h - 1) + 1 &&
                        width + 2 * p.pad_w >= p.dil_w * (p.kernel_w - 1) + 1,
                    "input (", height, "x", width, ", padded by ", p.pad_h, "x", p.pad_w,
                    ") is smaller than the dilated kernel (",
                    p.dil_h * (p.kernel_h - 1) + 1, "x", p.dil_w * (p.kernel_w - 1) + 1, ")");
  return p;
}

RowTable row_table(const GeometryParams& p) {
  const double top = p.lat_top * kDeg;
  const double dphi = (p.lat_top - p.lat_bottom) * kDeg / p.height;
  const double dlam = p.lon_span * kDeg / p.width;
  const double tan_dphi = std::tan(dphi), tan_dlam = std::tan(dlam);
  const int64_t out_h = p.out_h();
  const double half_kh = (p.kernel_h - 1) / 2.0, half_kw = (p.kernel_w - 1) / 2.0;
  const double centre_dx = -p.pad_w + p.dil_w * half_kw;

  RowTable t;
  t.rows.resize(out_h * p.taps());
  t.cols.resize(out_h * p.taps());
  for (int64_t r = 0; r < out_h; ++r) {
    const double yc = r * p.stride_h - p.pad_h + p.dil_h * half_kh;
    const double phi_c = top - (yc + 0.5) * dphi;
    const double phi0 = std::clamp(phi_c, -kPi / 2, kPi / 2);
    // The centre's row, exact unless the centre lies beyond a pole (then clamped onto it).
    const double row0 = phi0 == phi_c ? yc : (top - phi0) / dphi - 0.5;
    const double s0 = std::sin(phi0), c0 = std::cos(phi0);
    for (int64_t i = 0; i < p.kernel_h; ++i) {
      const double b = (i - half_kh) * p.dil_h * tan_dphi;  // south on the tangent plane
      for (int64_t j = 0; j < p.kernel_w; ++j) {
        const double a = (j - half_kw) * p.dil_w * tan_dlam;  // east on the tangent plane
        // The tap's direction (x, a, z)/n, x towards the centre's meridian and z up; its
        // latitude is phi0 plus atan2(sin, cos) of the angle from the centre within the
        // meridian plane, written without cancellation so that tiny pixels stay exact (asin
        // of a value near 1 would lose half the digits).
        const double x = c0 + b * s0, z = s0 - b * c0, rho = std::hypot(x, a);
        const double excess = x >= 0 ? a * a / (rho + x) : rho - x;  // rho - x
        const double dphi_tap = std::atan2(-b - s0 * excess, rho * c0 + z * s0);
        const int64_t k = (r * p.kernel_h + i) * p.kernel_w + j;
        t.rows[k] = row0 - dphi_tap / dphi;
        t.cols[k] = centre_dx + std::atan2(a, x) / dlam;
      }
    }
  }
  return t;
}

namespace {

// Source of extended row y (which may lie outside [0, H)): (row, crosses a pole) or (-1, _).
std::pair<int64_t, bool> source_row(const GeometryParams& p, int64_t y) {
  if (y >= 0 && y < p.height) return {y, false};
  if (!p.full_sphere()) return {-1, false};
  const int64_t mirrored = y < 0 ? -1 - y : 2 * p.height - 1 - y;
  if (mirrored < 0 || mirrored >= p.height) return {-1, false};
  return {mirrored, true};
}

int64_t source_col(const GeometryParams& p, int64_t x) {
  if (p.full_longitude()) return ((x % p.width) + p.width) % p.width;
  return (x >= 0 && x < p.width) ? x : -1;
}

// CSR (start offsets, values) of a list of (key, value) pairs with keys in [0, keys).
std::pair<at::Tensor, at::Tensor> csr(int64_t keys, const std::vector<std::pair<int64_t, int64_t>>& items) {
  auto i64 = at::TensorOptions().dtype(at::kLong);
  at::Tensor start = at::zeros({keys + 1}, i64), values = at::empty({int64_t(items.size())}, i64);
  int64_t* st = start.data_ptr<int64_t>();
  for (const auto& kv : items) ++st[kv.first + 1];
  for (int64_t k = 0; k < keys; ++k) st[k + 1] += st[k];
  std::vector<int64_t> fill(st, st + keys);
  for (const auto& kv : items) values.data_ptr<int64_t>()[fill[kv.first]++] = kv.second;
  return {start, values};
}

// The tables that let a kernel gather the gradient of each input pixel instead of scattering.
void add_inverse_tables(const GeometryParams& p, SamplingPlan& plan) {
  const int64_t n = plan.tap_offset.numel();
  const int64_t* off = plan.tap_offset.data_ptr<int64_t>();
  plan.tap_rc = at::empty({2 * n}, at::TensorOptions().dtype(at::kLong));
  std::vector<std::pair<int64_t, int64_t>> entries, rows, cols;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t row = off[k] / plan.ext_w;
    plan.tap_rc.data_ptr<int64_t>()[2 * k] = row;
    plan.tap_rc.data_ptr<int64_t>()[2 * k + 1] = off[k] % plan.ext_w;
    entries.push_back({row, 2 * k});
    entries.push_back({row + 1, 2 * k + 1});
  }
  const int64_t* row_src = plan.ext_row_src.data_ptr<int64_t>();
  for (int64_t e = 0; e < plan.ext_h; ++e) {
    if (row_src[e] >= 0) rows.push_back({row_src[e], e});
  }
  const int64_t* col_src = plan.ext_col_src.data_ptr<int64_t>();
  for (int64_t shift = 0; shift < 2; ++shift) {
    for (int64_t e = 0; e < plan.ext_w; ++e) {
      const int64_t x = col_src[shift * plan.ext_w + e];
      if (x >= 0) cols.push_back({shift * p.width + x, e});
    }
  }
  std::tie(plan.entry_start, plan.entry) = csr(plan.ext_h, entries);
  std::tie(plan.src_row_start, plan.src_row_ext) = csr(p.height, rows);
  std::tie(plan.src_col_start, plan.src_col_ext) = csr(2 * p.width, cols);
}

// Upper bounds of the plan's extended image, from the parameters alone (build_plan's clamps: rows
// within [-2, H], so ext_h <= H + 4; on a full circle of longitude a tap lies within half a turn
// (W / 2 columns) of its centre, so ext_w <= (out_w - 1) s_w + W + 4; otherwise columns are
// clamped to [-(out_w - 1) s_w - 2, W], so ext_w <= 2 (out_w - 1) s_w + W + 4). In double: no
// overflow whatever the parameters, and exact for integers up to 2^53.
std::pair<double, double> extended_bounds(const GeometryParams& p) {
  const double span = double(p.out_w() - 1) * double(p.stride_w);
  return {double(p.height) + 4, (p.full_longitude() ? span : 2 * span) + double(p.width) + 4};
}

// The tables are int32 (PlanView). Every table value and every index within one channel's image
// or extended image is below ext_h * ext_w (H * W included), and every table index below
// 4 * out_h * taps (the weights; the entries encode 2 * k + 1); stride_w divides in the gathers.
// Refused before anything is built when one of them could exceed 2^31 - 1.
void check_int32_tables(const GeometryParams& p) {
  constexpr double kMax = 2147483647.0;  // INT32_MAX
  const auto [ext_h, ext_w] = extended_bounds(p);
  const double weights = 4.0 * double(p.out_h()) * double(p.taps());
  const auto shown = [](double v) { return int64_t(std::min(v, 9e18)); };  // a printable integer
  TORCH_CHECK_VALUE(ext_h * ext_w <= kMax && weights <= kMax && double(p.stride_w) <= kMax, "equiconv: input ",
                    p.height, "x", p.width, " (kernel ", p.kernel_h, "x", p.kernel_w, ", stride ", p.stride_h, "x",
                    p.stride_w, ") is too large for the sampling plan's 32-bit tables: its extended image may span ",
                    shown(ext_h), "x", shown(ext_w), " = ", shown(ext_h * ext_w), " positions per channel and its "
                    "tap weights number ", shown(weights), "; each of these, and stride_w, must be at most 2^31 - 1 = "
                    "2147483647 (a full-sphere 3x3 layer with padding 1 takes inputs up to 23168x46336)");
}

// The int64 table t as int32; check_int32_tables has made sure its values fit.
at::Tensor to_int32(const at::Tensor& t) {
  TORCH_INTERNAL_ASSERT(t.numel() == 0 || (t.min().item<int64_t>() >= INT32_MIN &&
                                           t.max().item<int64_t>() <= INT32_MAX),
                        "equiconv: a sampling-plan table exceeds int32");
  return t.to(at::kInt);
}

SamplingPlan build_plan(const GeometryParams& p, c10::ScalarType dtype) {
  check_int32_tables(p);
  RowTable t = row_table(p);
  const int64_t n = static_cast<int64_t>(t.rows.size());
  std::vector<int64_t> y0(n), x0(n);
  // Taps that read only zeros (rows beyond a partial panorama's edges, columns beyond its sides
  // for every output column) are moved next to the image: what they read stays zero, and the
  // extended image stays the size of the image plus the kernel's footprint, whatever the ranges.
  // On a full sphere rows lie within [-1/2, H - 1/2] and full-longitude columns within half a
  // turn of the centre, so nothing there moves.
  const double x_low = -(p.out_w() - 1) * p.stride_w - 2.0, x_high = p.width;
  for (int64_t k = 0; k < n; ++k) {
    t.rows[k] = on_grid(std::clamp(t.rows[k], -2.0, double(p.height)));
    t.cols[k] = on_grid(p.full_longitude() ? t.cols[k] : std::clamp(t.cols[k], x_low, x_high));
    y0[k] = floor_to_int(t.rows[k]);
    x0[k] = floor_to_int(t.cols[k]);
  }
  const auto [ylo, yhi] = std::minmax_element(y0.begin(), y0.end());
  const auto [xlo, xhi] = std::minmax_element(x0.begin(), x0.end());
  const int64_t y_first = *ylo, x_first = *xlo;
  SamplingPlan plan;
  plan.ext_h = *yhi + 1 - y_first + 1;
  plan.ext_w = (p.out_w() - 1) * p.stride_w + *xhi + 1 - x_first + 1;

  auto i64 = at::TensorOptions().dtype(at::kLong);
  plan.tap_offset = at::empty({n}, i64);
  at::Tensor weight = at::empty({n, 4}, at::TensorOptions().dtype(at::kDouble));
  auto* off = plan.tap_offset.data_ptr<int64_t>();
  auto* w = weight.data_ptr<double>();
  for (int64_t k = 0; k < n; ++k) {
    off[k] = (y0[k] - y_first) * plan.ext_w + (x0[k] - x_first);
    const double wy = t.rows[k] - y0[k], wx = t.cols[k] - x0[k];
    w[4 * k + 0] = (1 - wy) * (1 - wx);
    w[4 * k + 1] = (1 - wy) * wx;
    w[4 * k + 2] = wy * (1 - wx);
    w[4 * k + 3] = wy * wx;
  }
  plan.tap_weight = weight.view({-1}).to(dtype);

  plan.ext_row_src = at::empty({plan.ext_h}, i64);
  plan.ext_row_shift = at::empty({plan.ext_h}, i64);
  for (int64_t e = 0; e < plan.ext_h; ++e) {
    const auto [row, crosses] = source_row(p, y_first + e);
    plan.ext_row_src.data_ptr<int64_t>()[e] = row;
    plan.ext_row_shift.data_ptr<int64_t>()[e] = crosses ? 1 : 0;
  }
  plan.ext_col_src = at::empty({2 * plan.ext_w}, i64);
  for (int64_t e = 0; e < plan.ext_w; ++e) {
    plan.ext_col_src.data_ptr<int64_t>()[e] = source_col(p, x_first + e);
    plan.ext_col_src.data_ptr<int64_t>()[plan.ext_w + e] =
        source_col(p, x_first + e + p.width / 2);
  }
  add_inverse_tables(p, plan);
  const auto [ext_h, ext_w] = extended_bounds(p);
  TORCH_INTERNAL_ASSERT(plan.ext_h <= ext_h && plan.ext_w <= ext_w, "equiconv: extended image ", plan.ext_h, "x",
                        plan.ext_w, " exceeds its bound ", ext_h, "x", ext_w);
  for (const auto& named : plan.tables()) {
    if (named.second->scalar_type() == at::kLong) *named.second = to_int32(*named.second);
  }
  return plan;
}

}  // namespace

std::vector<std::pair<const char*, at::Tensor*>> SamplingPlan::tables() {
  return {{"tap_offset", &tap_offset},       {"tap_weight", &tap_weight},
          {"ext_row_src", &ext_row_src},     {"ext_row_shift", &ext_row_shift},
          {"ext_col_src", &ext_col_src},     {"tap_rc", &tap_rc},
          {"src_row_start", &src_row_start}, {"src_row_ext", &src_row_ext},
          {"src_col_start", &src_col_start}, {"src_col_ext", &src_col_ext},
          {"entry_start", &entry_start},     {"entry", &entry}};
}

std::vector<std::pair<const char*, const at::Tensor*>> SamplingPlan::tables() const {
  std::vector<std::pair<const char*, const at::Tensor*>> out;
  for (auto& named : const_cast<SamplingPlan*>(this)->tables()) out.push_back(named);
  return out;
}

SamplingPlan packed(const SamplingPlan& plan, c10::Device device) {
  constexpr int64_t kAlign = 16;  // every table starts aligned for any element type
  const auto from = plan.tables();
  std::vector<int64_t> offset;
  int64_t bytes = 0;
  for (const auto& named : from) {
    offset.push_back(bytes);
    bytes += (int64_t(named.second->nbytes()) + kAlign - 1) / kAlign * kAlign;
  }
  const auto u8 = at::TensorOptions().dtype(at::kByte);
  at::Tensor host = at::empty({bytes}, u8.pinned_memory(device.is_cuda()));
  for (size_t i = 0; i < from.size(); ++i) {
    const at::Tensor t = from[i].second->contiguous();
    if (t.nbytes() > 0) std::memcpy(host.data_ptr<uint8_t>() + offset[i], t.const_data_ptr(), t.nbytes());
  }
  SamplingPlan out;
  out.ext_h = plan.ext_h;
  out.ext_w = plan.ext_w;
  if (device.is_cpu()) {
    out.storage = host;
  } else {
    out.storage = at::empty({bytes}, u8.device(device));
    out.storage.copy_(host, /*non_blocking=*/true);  // the host allocator keeps `host` until it is done
    out.ready.emplace(device.type());
    out.ready->record(c10::impl::VirtualGuardImpl(device.type()).getStream(device));
  }
  auto to = out.tables();
  for (size_t i = 0; i < from.size(); ++i) {
    const at::Tensor& t = *from[i].second;
    *to[i].second = out.storage.narrow(0, offset[i], t.nbytes()).view(t.scalar_type()).view(t.sizes());
  }
  return out;
}

namespace {

struct CacheEntry {
  GeometryParams params;
  c10::Device device;
  c10::ScalarType dtype;
  std::shared_ptr<const SamplingPlan> plan;
  bool kept;  // used in a graph capture: never evicted
};

constexpr size_t kCacheCapacity = 256;  // plans that may be evicted

}  // namespace

std::shared_ptr<const SamplingPlan> sampling_plan(
    const GeometryParams& p, c10::Device device, c10::ScalarType dtype, PlanUse use) {
  // Never destroyed (allocated once, deliberately leaked): a plan on a GPU holds CUDA storages,
  // and a static destroyed at exit would free them after the CUDA runtime has shut down.
  static std::mutex& mutex = *new std::mutex();
  static std::list<CacheEntry>& cache = *new std::list<CacheEntry>();  // most recently used first
  const bool capture = use == PlanUse::kGraphCapture;
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = cache.begin(); it != cache.end(); ++it) {
      if (it->params == p && it->device == device && it->dtype == dtype) {
        it->kept = it->kept || capture;
        cache.splice(cache.begin(), cache, it);
        return cache.front().plan;
      }
    }
  }
  TORCH_CHECK(!capture, "equiconv: this layer (input ", p.height, "x", p.width, ", kernel ", p.kernel_h, "x",
              p.kernel_w, ", ", dtype, ") has no sampling plan on ", device, " yet, and it cannot be built while "
              "a CUDA graph is being captured; run the layer once before the capture (a warm-up)");
  SamplingPlan plan = build_plan(p, dtype);
  auto shared = std::make_shared<const SamplingPlan>(device.is_cpu() ? std::move(plan) : packed(plan, device));
  std::lock_guard<std::mutex> lock(mutex);
  cache.push_front(CacheEntry{p, device, dtype, shared, false});
  const auto evictable = std::count_if(cache.begin(), cache.end(), [](const CacheEntry& e) { return !e.kept; });
  if (size_t(evictable) > kCacheCapacity) {
    const auto last = std::find_if(cache.rbegin(), cache.rend(), [](const CacheEntry& e) { return !e.kept; });
    cache.erase(std::next(last).base());
  }
  return shared;
}

}  // namespace equiconv
