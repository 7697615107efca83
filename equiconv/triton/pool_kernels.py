"""equi_max_pool2d / equi_avg_pool2d's Triton kernels (``scale_ptr``: 1/taps in the accumulator dtype, as the CPU op rounds it): the forward reduces each window's taps,
sampled as the convolution samples them; the backward gathers, per input pixel, every output
whose (winning, for max) tap read it, in the inverse table's fixed order (no atomics).

Max pooling's winner is the CPU operator's: the first NaN if any tap is NaN, else the first
largest tap in row-major order (strictly larger replaces)."""
import triton
import triton.language as tl

from equiconv.triton.sampling import gather_reads, sample_tile
from equiconv.triton.tiles import channel_tile, row_tile


@triton.jit
def pool_forward_kernel(x_ptr, out_ptr, idx_ptr, scale_ptr, rows_ptr, bases_ptr, tw_ptr,
                        channels, width, out_h, out_w, taps, stride_w,
                        sxn, sxc, sxh, sxw, son, soc, soh, sow,
                        FULL_LON: tl.constexpr, MAX: tl.constexpr, ACC: tl.constexpr,
                        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """out (and, for max, the winning tap) of BLOCK_M output columns of output row r of image n,
    BLOCK_N channels."""
    n, r, q, q_ok = row_tile(out_w, out_h, BLOCK_M)
    c, c_ok = channel_tile(channels, BLOCK_N)
    x_img = x_ptr + n.to(tl.int64) * sxn
    c_off = c.to(tl.int64) * sxc
    if MAX:
        best = tl.full((BLOCK_M, BLOCK_N), float("-inf"), ACC)
    else:
        best = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    winner = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.int32)
    for t in range(taps):
        v = sample_tile(x_img, rows_ptr, bases_ptr, tw_ptr, r * taps + t, q, q_ok, c_off, c_ok,
                        stride_w, width, sxh, sxw, FULL_LON, ACC)
        if MAX:
            take = (v > best) | ((v != v) & (best == best))
            best = tl.where(take, v, best)
            winner = tl.where(take, t, winner)
        else:
            best += v
    out = n.to(tl.int64) * son + r.to(tl.int64) * soh + c.to(tl.int64)[None, :] * soc + q.to(tl.int64)[:, None] * sow
    ok = q_ok[:, None] & c_ok[None, :]
    if MAX:
        tl.store(idx_ptr + out, winner.to(tl.int64), mask=ok)
    else:
        best = best * tl.load(scale_ptr)
    tl.store(out_ptr + out, best.to(out_ptr.dtype.element_ty), mask=ok)


@triton.jit
def pool_backward_kernel(go_ptr, idx_ptr, gi_ptr, scale_ptr, start_ptr, inv_row_ptr, inv_base_ptr, inv_w_ptr,
                         channels, height, width, out_w, taps, stride_w, wraps,
                         sgn, sgc, sgh, sgw, sjn, sjc, sjh, sjw, sin, sic, sih, siw,
                         FULL_LON: tl.constexpr, MAX: tl.constexpr, ACC: tl.constexpr,
                         BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """grad_input of BLOCK_M input columns of input row y of image n, BLOCK_N channels."""
    n, y, x, x_ok = row_tile(width, height, BLOCK_M)
    c, c_ok = channel_tile(channels, BLOCK_N)
    go_img = go_ptr + n.to(tl.int64) * sgn
    idx_img = idx_ptr + n.to(tl.int64) * sjn
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    scale = tl.load(scale_ptr)
    c_go, c_idx = c.to(tl.int64) * sgc, c.to(tl.int64) * sjc
    for t in range(taps):
        acc = gather_reads(acc, go_img, idx_img, start_ptr, inv_row_ptr, inv_base_ptr, inv_w_ptr, y, t, taps, x, x_ok,
                           c_go, c_idx, c_ok, sgh, sgw, sjh, sjw, scale, width, stride_w, out_w, wraps,
                           FULL_LON, MAX, ACC)
    out = gi_ptr + n.to(tl.int64) * sin + y.to(tl.int64) * sih + c.to(tl.int64)[None, :] * sic \
        + x.to(tl.int64)[:, None] * siw
    tl.store(out, acc.to(gi_ptr.dtype.element_ty), mask=x_ok[:, None] & c_ok[None, :])
