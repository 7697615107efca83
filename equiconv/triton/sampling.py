"""The sampling every Triton kernel shares: a tile of bilinear samples (output columns x
channels) of one (output row, tap), blended on the fly from the four corner rows with the tap's
four scalar weights; and its adjoint's walk, the gather of every read of a tile of input pixels
through the inverse table (see equiconv/triton/tables.py for the tables)."""
import triton
import triton.language as tl


@triton.jit
def sample_tile(x_img, rows_ptr, bases_ptr, weights_ptr, k, q, q_ok, c_off, c_ok, stride_w, width,
                sxh, sxw, FULL_LON: tl.constexpr, ACC: tl.constexpr):
    """Samples (len(q), len(c_off)) of table entry k = out_row * taps + tap in ACC: corners
    summed upper-left, upper-right, lower-left, lower-right (the CPU kernels' order); a corner
    of weight zero or outside a partial panorama is not read."""
    acc = tl.zeros((q.shape[0], c_off.shape[0]), dtype=ACC)
    for corner in tl.static_range(4):
        row = tl.load(rows_ptr + 2 * k + corner // 2)
        base = tl.load(bases_ptr + 2 * k + corner // 2)
        w = tl.load(weights_ptr + 4 * k + corner).to(ACC)
        col = base + corner % 2 + q * stride_w
        if FULL_LON:
            col = col % width
            ok = q_ok
        else:
            ok = q_ok & (col >= 0) & (col < width)
        ok = tl.where(w != 0, ok, False)  # (a vector & a scalar bool fails in the interpreter)
        pix = row.to(tl.int64) * sxh + col.to(tl.int64) * sxw
        v = tl.load(x_img + pix[:, None] + c_off[None, :], mask=ok[:, None] & c_ok[None, :], other=0.0)
        acc += w * v.to(ACC)
    return acc


@triton.jit
def inverse_columns(x, base, wrap, width, stride_w, out_w, x_ok, FULL_LON: tl.constexpr):
    """(output column, whether it exists) for the ``wrap``-th output column whose table entry of
    column ``base`` reads input columns ``x``: ``base + q * stride_w == x`` (modulo W on a full circle)."""
    if FULL_LON:
        v = (x - base + width) % width + wrap * width
    else:
        v = x - base
    ok = x_ok & (v >= 0) & (v % stride_w == 0)
    q = tl.where(ok, v // stride_w, 0)
    return q, ok & (q < out_w)


@triton.jit
def gather_reads(acc, src_img, won_img, start_ptr, inv_row_ptr, inv_base_ptr, inv_w_ptr, y, t, taps, x, x_ok,
                 ch_off, won_off, ch_ok, ssh, ssw, swh, sww, scale, width, stride_w, out_w, wraps,
                 FULL_LON: tl.constexpr, MAX: tl.constexpr, ACC: tl.constexpr):
    """acc (len(x), len(ch_off)) plus weight * src[r, q, channel] for every output (row r,
    column q) whose corner of tap t read input pixel (y, x), in the inverse table's fixed order
    (seam and pole copies summed right here). ``src`` (``ssh``, ``ssw``, ``ch_off``) is read
    times ``scale``, or with MAX only where ``won`` (``swh``, ``sww``, ``won_off``) names tap t."""
    first = tl.load(start_ptr + y * taps + t)
    last = tl.load(start_ptr + y * taps + t + 1)
    for e in range(first, last):
        r = tl.load(inv_row_ptr + e)
        base = tl.load(inv_base_ptr + e)
        w = tl.load(inv_w_ptr + e).to(ACC)
        for wrap in range(wraps):
            q, ok = inverse_columns(x, base, wrap, width, stride_w, out_w, x_ok, FULL_LON)
            ok2 = ok[:, None] & ch_ok[None, :]
            v = tl.load(src_img + (r.to(tl.int64) * ssh + q.to(tl.int64) * ssw)[:, None] + ch_off[None, :],
                        mask=ok2, other=0.0).to(ACC)
            if MAX:
                won = tl.load(won_img + (r.to(tl.int64) * swh + q.to(tl.int64) * sww)[:, None] + won_off[None, :],
                              mask=ok2, other=-1)
                v = tl.where(won == t, v, 0.0)
            else:
                v = v * scale
            acc += w * v
    return acc
