"""equi_conv2d's Triton kernels: the forward and the input gradient as implicit GEMMs (no column
buffer: the operand tiles are blended from the image or gathered from grad_output on the fly),
and the weight gradient as a GEMM over pixels split into a fixed number of parts (summed by the
host in a fixed order). No atomics anywhere: every run gives the same bits.

Weights come in as (groups, taps, K, N) with N contiguous (a weight-sized copy made by the host).
``DOT`` is the dtype of the tensor-core operands; ``ACC`` the accumulator (float32, or float64
for float64 tensors).
"""
import triton
import triton.language as tl

from equiconv.triton.sampling import gather_reads, sample_tile
from equiconv.triton.tiles import channel_tile, row_tile


@triton.jit
def conv_forward_kernel(x_ptr, w_ptr, bias_ptr, out_ptr, rows_ptr, bases_ptr, tw_ptr,
                        c_g, o_g, width, out_h, out_w, taps, stride_w,
                        sxn, sxc, sxh, sxw, son, soc, soh, sow,
                        FULL_LON: tl.constexpr, HAS_BIAS: tl.constexpr, DOT: tl.constexpr, ACC: tl.constexpr,
                        PRECISION: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                        BLOCK_K: tl.constexpr):
    """out[n, g*o_g + o, r, q] for BLOCK_M output columns q of output row r of image n (M), BLOCK_N
    output channels (N); K = taps x input channels of the group, the A tile sampled per tap."""
    g = tl.program_id(2)
    n, r, q, q_ok = row_tile(out_w, out_h, BLOCK_M)
    o, o_ok = channel_tile(o_g, BLOCK_N)
    kc = tl.arange(0, BLOCK_K)
    x_img = x_ptr + n.to(tl.int64) * sxn + (g * c_g).to(tl.int64) * sxc
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    for t in range(taps):
        k = r * taps + t
        w_tap = w_ptr + (g * taps + t).to(tl.int64) * c_g * o_g
        for c0 in range(0, c_g, BLOCK_K):
            c = c0 + kc
            c_ok = c < c_g
            a = sample_tile(x_img, rows_ptr, bases_ptr, tw_ptr, k, q, q_ok, c.to(tl.int64) * sxc, c_ok,
                            stride_w, width, sxh, sxw, FULL_LON, ACC)
            b = tl.load(w_tap + c[:, None] * o_g + o[None, :], mask=c_ok[:, None] & o_ok[None, :], other=0.0)
            acc = tl.dot(a.to(DOT), b.to(DOT), acc, input_precision=PRECISION, out_dtype=ACC)
    if HAS_BIAS:
        acc += tl.load(bias_ptr + g * o_g + o, mask=o_ok, other=0.0).to(ACC)[None, :]
    out = out_ptr + n.to(tl.int64) * son + r.to(tl.int64) * soh + (g * o_g + o).to(tl.int64)[None, :] * soc \
        + q.to(tl.int64)[:, None] * sow
    tl.store(out, acc.to(out_ptr.dtype.element_ty), mask=q_ok[:, None] & o_ok[None, :])


@triton.jit
def conv_input_grad_kernel(go_ptr, w_ptr, gi_ptr, start_ptr, inv_row_ptr, inv_base_ptr, inv_w_ptr,
                           c_g, o_g, height, width, out_w, taps, stride_w, wraps,
                           sgn, sgc, sgh, sgw, sin, sic, sih, siw,
                           FULL_LON: tl.constexpr, DOT: tl.constexpr, ACC: tl.constexpr, PRECISION: tl.constexpr,
                           BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    """grad_input[n, g*c_g + c, y, x] for BLOCK_M input columns x of input row y (M), BLOCK_N input
    channels (N); K = taps x output channels. Per tap the A tile gathers, in the inverse table's
    fixed order, every output (row, column) whose corner read (y, x), times that corner's weight:
    seam and pole copies are summed right there, so no extended image and no fold are needed."""
    g = tl.program_id(2)
    n, y, x, x_ok = row_tile(width, height, BLOCK_M)
    c, c_ok = channel_tile(c_g, BLOCK_N)
    ko = tl.arange(0, BLOCK_K)
    go_img = go_ptr + n.to(tl.int64) * sgn + (g * o_g).to(tl.int64) * sgc
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    for t in range(taps):
        w_tap = w_ptr + (g * taps + t).to(tl.int64) * c_g * o_g
        for o0 in range(0, o_g, BLOCK_K):
            o = o0 + ko
            o_ok = o < o_g
            o_off = o.to(tl.int64) * sgc
            a = gather_reads(tl.zeros((BLOCK_M, BLOCK_K), dtype=ACC), go_img, go_img, start_ptr, inv_row_ptr,
                             inv_base_ptr, inv_w_ptr, y, t, taps, x, x_ok, o_off, o_off, o_ok, sgh, sgw, sgh, sgw,
                             1.0, width, stride_w, out_w, wraps, FULL_LON, False, ACC)
            b = tl.load(w_tap + o[:, None] * c_g + c[None, :], mask=o_ok[:, None] & c_ok[None, :], other=0.0)
            acc = tl.dot(a.to(DOT), b.to(DOT), acc, input_precision=PRECISION, out_dtype=ACC)
    out = gi_ptr + n.to(tl.int64) * sin + y.to(tl.int64) * sih + (g * c_g + c).to(tl.int64)[None, :] * sic \
        + x.to(tl.int64)[:, None] * siw
    tl.store(out, acc.to(gi_ptr.dtype.element_ty), mask=x_ok[:, None] & c_ok[None, :])


@triton.jit
def conv_weight_grad_kernel(go_ptr, x_ptr, part_ptr, rows_ptr, bases_ptr, tw_ptr,
                            c_g, o_g, width, out_h, out_w, taps, stride_w, rows_total, rows_per_part,
                            sgn, sgc, sgh, sgw, sxn, sxc, sxh, sxw,
                            FULL_LON: tl.constexpr, DOT: tl.constexpr, ACC: tl.constexpr, PRECISION: tl.constexpr,
                            BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    """part[p, g, t, o, c]: the weight gradient of tap t over part p of the (image, output row)
    pairs: M = output channels, N = input channels, K = the part's output pixels, the B tile
    sampled as in the forward. The host sums the parts in a fixed order."""
    o_blocks = tl.cdiv(o_g, BLOCK_M)
    c_blocks = tl.cdiv(c_g, BLOCK_N)
    pid = tl.program_id(0)
    g = tl.program_id(1)
    part = tl.program_id(2)
    t = pid // (o_blocks * c_blocks)
    ob = (pid // c_blocks) % o_blocks
    cb = pid % c_blocks
    o = ob * BLOCK_M + tl.arange(0, BLOCK_M)
    o_ok = o < o_g
    c = cb * BLOCK_N + tl.arange(0, BLOCK_N)
    c_ok = c < c_g
    c_off = c.to(tl.int64) * sxc
    kq = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC)
    first = part * rows_per_part
    last = tl.minimum(first + rows_per_part, rows_total)
    for nr in range(first, last):
        n, r = nr // out_h, nr % out_h
        go_row = go_ptr + n.to(tl.int64) * sgn + (g * o_g).to(tl.int64) * sgc + r.to(tl.int64) * sgh
        x_img = x_ptr + n.to(tl.int64) * sxn + (g * c_g).to(tl.int64) * sxc
        for q0 in range(0, out_w, BLOCK_K):
            q = q0 + kq
            q_ok = q < out_w
            a = tl.load(go_row + o.to(tl.int64)[:, None] * sgc + q.to(tl.int64)[None, :] * sgw,
                        mask=o_ok[:, None] & q_ok[None, :], other=0.0)
            b = sample_tile(x_img, rows_ptr, bases_ptr, tw_ptr, r * taps + t, q, q_ok, c_off, c_ok,
                            stride_w, width, sxh, sxw, FULL_LON, ACC)
            acc = tl.dot(a.to(DOT), b.to(DOT), acc, input_precision=PRECISION, out_dtype=ACC)
    out = part_ptr + (((part * tl.num_programs(1) + g) * taps + t) * o_g).to(tl.int64) * c_g \
        + o[:, None] * c_g + c[None, :]
    tl.store(out, acc, mask=o_ok[:, None] & c_ok[None, :])
