"""``equiconv.resampling``: rotation, perspective views and cubemaps of whole panoramas, checked
against exact functions on the sphere, against the project's renderer (which draws any view of
its synthetic world exactly), against each other (inverse, composition, roll) and against the
peers that users reach for (pytorch360convert, py360convert; skipped where missing)."""
import math

import pytest
import torch
from hypothesis import given, strategies as st

import equiconv
from equiconv import resampling
from equiconv.resampling import from_cubemap, rotate, rotation_matrix, to_cubemap, to_perspective


def smooth(dirs: torch.Tensor) -> torch.Tensor:
    """A smooth function of the direction: what interpolation errors are measured on."""
    return torch.sin(3 * dirs[..., 0]) + torch.cos(2 * dirs[..., 1]) + dirs[..., 2]


def smooth_panorama(height: int, width: int) -> torch.Tensor:
    return smooth(resampling.panorama_directions(height, width)).reshape(1, 1, height, width)


@given(height=st.integers(1, 9), width=st.integers(2, 24), shift=st.integers(-30, 30))
def test_a_yaw_by_whole_columns_is_a_roll(height, width, shift):
    x = torch.randn(2, 3, height, width)
    assert torch.equal(rotate(x, yaw=shift * 360.0 / width), torch.roll(x, -shift, dims=-1))
    labels = torch.randint(0, 9, (2, height, width))
    assert torch.equal(rotate(labels, yaw=shift * 360.0 / width, mode="nearest"), torch.roll(labels, -shift, -1))


def test_no_rotation_is_the_identity():
    x = torch.randn(1, 2, 7, 12, dtype=torch.float64)
    assert torch.equal(rotate(x), x) and torch.equal(rotate(x, torch.eye(3)), x)


@pytest.mark.parametrize("yaw, pitch, roll", [(0, 20, 10), (35, -40, 5), (170, 60, -30)])
def test_rotating_back_gives_the_panorama_within_interpolation_error(yaw, pitch, roll):
    pano = smooth_panorama(64, 128).double()
    r = rotation_matrix(yaw, pitch, roll)
    there = rotate(pano, r)
    exact = smooth(resampling.panorama_directions(64, 128).double() @ r.T).reshape(pano.shape)
    assert (there - exact).abs().max() < 0.01  # bilinear on a smooth function, under a pixel's slope
    assert (rotate(there, r.T) - pano).abs().max() < 0.02


def test_a_label_map_comes_back_exactly_away_from_class_borders():
    lat = resampling.panorama_directions(48, 96)[:, 2].reshape(48, 96)
    lon = torch.arange(96).expand(48, 96)
    labels = (lat > 0.3).long() * 10 + lon // 24  # bands and sectors: large regions
    r = rotation_matrix(20, 15, -10)
    back = rotate(rotate(labels[None], r, mode="nearest"), r.T, mode="nearest")[0]
    padded = torch.cat([labels[:, -3:], labels, labels[:, :3]], 1)
    padded = torch.cat([padded[:1].expand(3, -1), padded, padded[-1:].expand(3, -1)])
    window = padded.unfold(0, 7, 1).unfold(1, 7, 1)  # 7x7 around each pixel
    inside = (window == labels[..., None, None]).all(-1).all(-1) & (lat.abs() < 0.8)
    assert inside.float().mean() > 0.3  # a third of the panorama is far from every border
    assert torch.equal(back[inside], labels[inside])
    assert set(back.unique().tolist()) <= set(labels.unique().tolist())


def test_instance_ids_stay_whole():
    ids = torch.randint(0, 5, (2, 16, 32)) * 1000 + 26
    turned = rotate(ids, pitch=33.0, roll=12.0, mode="nearest")
    assert turned.dtype == ids.dtype and set(turned.unique().tolist()) <= set(ids.unique().tolist())


def test_two_rotations_compose():
    pano = smooth_panorama(96, 192).double()
    a, b = rotation_matrix(10, 20, 5), rotation_matrix(-30, 5, 15)
    twice = rotate(rotate(pano, a), b)
    assert (twice - rotate(pano, a @ b)).abs().max() < 0.02
    assert (twice - rotate(pano, b @ a)).abs().max() > 0.3  # the order matters, and is the documented one


def test_one_rotation_per_item_equals_each_alone():
    x = torch.randn(3, 2, 8, 16, dtype=torch.float64)
    yaw, pitch = torch.tensor([0.0, 40.0, -70.0]), torch.tensor([10.0, -20.0, 45.0])
    together = rotate(x, rotation_matrix(yaw, pitch))
    for i in range(3):
        assert torch.equal(together[i], rotate(x[i:i + 1], rotation_matrix(yaw[i], pitch[i]))[0])


def test_rotation_matrix_axes():
    north, east, up = torch.eye(3, dtype=torch.float64)[[1, 0, 2]]
    assert torch.allclose(rotation_matrix(yaw=90) @ north, east, atol=1e-12)  # yaw turns north to east
    assert torch.allclose(rotation_matrix(pitch=90) @ north, up, atol=1e-12)  # pitch looks up
    assert torch.allclose(rotation_matrix(roll=90) @ east, -up, atol=1e-12)  # roll takes the right side down
    r = rotation_matrix(30, 40, 50)
    assert torch.allclose(r, rotation_matrix(yaw=30) @ rotation_matrix(pitch=40) @ rotation_matrix(roll=50))


def test_views_and_cubemaps_match_exact_functions():
    pano = smooth_panorama(128, 256).double()
    view = to_perspective(pano, 80.0, (48, 64), yaw=30.0, pitch=20.0, roll=10.0)
    camera = resampling._camera_directions(48, 64, 80.0) @ rotation_matrix(30, 20, 10).T
    assert (view - smooth(camera).reshape(1, 1, 48, 64)).abs().max() < 2e-3
    faces = to_cubemap(pano, 32)
    for k, (_, yaw, pitch) in enumerate(resampling.FACES):
        assert torch.equal(faces[:, k], to_perspective(pano, 90.0, (32, 32), yaw=yaw, pitch=pitch))
    back = from_cubemap(faces, 128, 256)
    assert (back - pano).abs().max() < 0.05  # a face's edge pixels stand in beyond its border


def test_views_of_the_rendered_world_match_its_own_renders():
    """The synthetic world is drawn exactly for any camera: a view or a tilt cut from its
    level panorama agrees with the renderer's own picture of that camera up to resampling."""
    from panosis_models.data.render import render_panorama, render_perspective
    from panosis_models.data.world import World
    world = World.random(3)
    image, labels = render_panorama(world, 128, 256)
    for yaw, pitch in ((0.0, 0.0), (60.0, 20.0), (-120.0, -30.0)):
        true_image, true_labels = render_perspective(world, 48, 64, 90.0, yaw, pitch)
        cut = to_perspective(labels, 90.0, (48, 64), yaw=yaw, pitch=pitch, mode="nearest")
        assert (cut == true_labels).float().mean() > 0.93
        picture = to_perspective(image, 90.0, (48, 64), yaw=yaw, pitch=pitch)
        assert (picture - true_image).abs().mean() < 0.05
    tilted_image, tilted_labels = render_panorama(world, 128, 256, pitch=15.0, roll=-10.0)
    turned = rotate(labels, pitch=15.0, roll=-10.0, mode="nearest")
    assert (turned == tilted_labels).float().mean() > 0.93
    assert (rotate(image, pitch=15.0, roll=-10.0) - tilted_image).abs().mean() < 0.05


def test_gradients_reach_the_image():
    x = torch.randn(1, 2, 5, 10, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: rotate(t, yaw=17.0, pitch=23.0, roll=-8.0), (x,))
    assert torch.autograd.gradcheck(lambda t: to_perspective(t, 70.0, (4, 6), yaw=40.0), (x,))
    faces = torch.randn(1, 6, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: from_cubemap(f, 6, 12), (faces,))


def test_compiles():
    x = torch.randn(2, 3, 16, 32)
    compiled = torch.compile(lambda t: rotate(t, pitch=10.0, roll=5.0), fullgraph=True)
    assert torch.allclose(compiled(x), rotate(x, pitch=10.0, roll=5.0), atol=2e-5)  # inductor decomposes grid_sample


def test_modules_match_the_functions():
    x = torch.rand(2, 3, 16, 32)
    assert torch.equal(equiconv.SphereRotation(pitch=20.0)(x), rotate(x, pitch=20.0))
    assert torch.equal(equiconv.ToPerspective(60.0, (8, 12), yaw=10.0)(x), to_perspective(x, 60.0, (8, 12), yaw=10.0))
    assert torch.equal(equiconv.FromCubemap(16, 32)(equiconv.ToCubemap(8)(x)), from_cubemap(to_cubemap(x, 8), 16, 32))
    augment = equiconv.RandomSphereRotation(20.0, 10.0, generator=torch.Generator().manual_seed(1))
    image, labels, ids = augment(x[0], torch.randint(0, 3, (16, 32)), torch.randint(0, 3, (16, 32)) * 1000)
    again = equiconv.RandomSphereRotation(20.0, 10.0, generator=torch.Generator().manual_seed(1)).sample()
    assert torch.equal(image, rotate(x[0], again)) and labels.dtype == torch.int64 and ids.dtype == torch.int64
    assert "max_pitch=20.0" in repr(augment)


@pytest.mark.parametrize("call, message", [
    (lambda: rotate(torch.rand(1, 1, 4, 8), torch.ones(3, 3)), "rotation matrix"),
    (lambda: rotate(torch.rand(1, 1, 4, 8), torch.diag(torch.tensor([1.0, 1.0, -1.0]))), "determinant"),
    (lambda: rotate(torch.randint(0, 3, (1, 4, 8)), yaw=10.0), "mode='nearest'"),
    (lambda: rotate(torch.rand(1, 1, 4, 8), mode="cubic"), "mode must be one of"),
    (lambda: rotate(torch.rand(1, 1, 4, 8), torch.eye(3), yaw=5.0), "not both"),
    (lambda: rotate(torch.rand(2, 1, 4, 8), torch.eye(3).expand(3, 3, 3)), "batch of 3 rotations"),
    (lambda: rotate(torch.rand(8), yaw=5.0), "(..., H, W)"),
    (lambda: to_perspective(torch.rand(1, 1, 4, 8), 180.0, (4, 4)), "fov"),
    (lambda: to_perspective(torch.rand(1, 1, 4, 8), 90.0, (4, 0)), "size"),
    (lambda: to_cubemap(torch.rand(1, 4, 8), 4), "(N, C, H, W)"),
    (lambda: from_cubemap(torch.rand(1, 5, 1, 4, 4), 4, 8), "(N, 6, C, S, S)"),
    (lambda: rotation_matrix(yaw=math.nan), "finite"),
    (lambda: equiconv.RandomSphereRotation(100.0, 0.0), "max_pitch"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=None) as error:
        call()
    assert message in str(error.value)


def _peer(name):
    return pytest.importorskip(name, reason=f"{name} is not installed (make install puts it in the test set-up)")


def _square_pixels_vertical_fov(fov: float, height: int, width: int) -> float:
    """The peers take a (horizontal, vertical) field of view; ours has square pixels."""
    return 2 * math.degrees(math.atan(math.tan(math.radians(fov) / 2) * height / width))


def test_agrees_with_pytorch360convert():
    """Same conventions after mapping theirs (h_deg = yaw, v_deg = pitch, a vertical fov for
    square pixels, their cube list order); they sample half a pixel apart from the pixel centres
    of the Geometry contract, so agreement is within a pixel's slope (and ours is the one that
    matches the exact function, see test_views_and_cubemaps_match_exact_functions)."""
    p3 = _peer("pytorch360convert")
    pano = smooth_panorama(128, 256).double()[0]
    vertical = _square_pixels_vertical_fov(80.0, 32, 48)
    for yaw, pitch in ((0.0, 0.0), (30.0, 20.0), (-60.0, -35.0)):
        theirs = p3.e2p(pano, (80.0, vertical), yaw, pitch, (32, 48), channels_first=True)
        assert (to_perspective(pano[None], 80.0, (32, 48), yaw=yaw, pitch=pitch)[0] - theirs).abs().max() < 0.04
    ours = to_cubemap(pano[None], 64)[0]
    for k, face in enumerate(p3.e2c(pano, 64, cube_format="list", channels_first=True)):
        assert (ours[k] - face).abs().max() < 0.04
    theirs = p3.c2e(list(ours.unbind(0)), 128, 256, cube_format="list", channels_first=True)
    back = from_cubemap(ours[None], 128, 256)[0]
    assert (back - theirs).abs().mean() < 0.05  # theirs reads faces half a pixel off: up to 0.19 at face edges
    assert (back - pano).abs().max() < (theirs - pano).abs().max() / 4


def test_agrees_with_py360convert():
    p = _peer("py360convert")
    pano = smooth_panorama(128, 256).double()[0, 0]
    vertical = _square_pixels_vertical_fov(80.0, 32, 48)
    theirs = torch.from_numpy(p.e2p(pano.numpy()[..., None], (80.0, vertical), 30.0, 20.0, (32, 48))[..., 0])
    assert (to_perspective(pano[None, None], 80.0, (32, 48), yaw=30.0, pitch=20.0)[0, 0] - theirs).abs().max() < 0.04


def test_geometry_is_planned_once_per_size_and_rotation():
    resampling._PLANS.clear()
    x = torch.rand(1, 1, 8, 16)
    first = rotate(x, pitch=12.0)
    assert len(resampling._PLANS) == 1 and torch.equal(rotate(x, pitch=12.0), first)
    rotate(x, pitch=13.0)
    rotate(torch.rand(1, 1, 6, 12), pitch=12.0)
    assert len(resampling._PLANS) == 3
    for angle in range(2 * resampling.PLANS_KEPT):
        rotate(x, yaw=float(angle) + 0.5)
    assert len(resampling._PLANS) == resampling.PLANS_KEPT


def test_a_rotation_that_needs_gradients_gets_them():
    angles = torch.tensor([20.0, 10.0], dtype=torch.float64, requires_grad=True)
    image = smooth_panorama(16, 32).double()
    turned = rotate(image, rotation_matrix(pitch=angles[0], roll=angles[1]))
    turned.sum().backward()
    assert torch.isfinite(angles.grad).all() and angles.grad.abs().sum() > 0
