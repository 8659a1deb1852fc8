// The living page's update: z from the sliders (or μ + σ·ε from the seed), the decoder's
// forward pass, then the image, the bars and the values written in place. `a` holds the
// CustomJS args of explorer/pages/living.py; the data sources' columns (`a.*_column`) come from
// explorer/plots.py, which also knows the image's row flip and the bars' axis rule done here.
function vaeUpdate(a) {
  const started = performance.now();
  const net = (window.__vaeNet ??= vaeBuild(JSON.parse(a.spec)));
  const mode = a.modes[a.mode_group.active];
  const n = a.z_sliders.length;
  const show = (model, visible) => { if (model.visible !== visible) model.visible = visible; };
  show(a.z_grid, mode === "deterministic");
  show(a.sample_grid, mode === "sample");
  show(a.seed, mode !== "deterministic");
  show(a.resample, mode !== "deterministic");
  const title = a.titles[a.mode_group.active];
  if (a.bars_title.text !== title) a.bars_title.text = title;

  let z;
  if (mode === "deterministic") {
    z = Float32Array.from(a.z_sliders, (s) => s.value);
  } else {
    const eps = vaeStandardNormal(a.seed.value, n);
    const mu = a.mu_sliders, sigma = a.sigma_sliders;
    z = mode === "prior" ? eps : Float32Array.from(eps, (e, i) => mu[i].value + sigma[i].value * e);
  }

  const out = vaeForward(net, z);
  window.vaeImage = out; // the image as shown, C×H×W floats: read by tests
  const old = a.image.data[a.image_column][0];
  a.image.data = Object.assign({}, a.image.data, {[a.image_column]: [vaePixels(out, old)]});

  const zs = Array.from(z);
  const color = (v) => (v >= 0 ? a.positive : a.negative);
  a.bars.data = Object.assign({}, a.bars.data, {[a.z_column]: zs, [a.color_column]: zs.map(color)});
  const tallest = Math.ceil(Math.max(...zs.map(Math.abs))); // plots.bars_limit: it only grows
  if (tallest > a.bars_range.end) {
    a.bars_range.start = -tallest;
    a.bars_range.end = tallest;
  }
  const sign = (v) => (v >= 0 ? "+" : "");
  // The values (as pages/fragments.values_html writes them): a plain element of the page's
  // template (a Bokeh Div would re-lay out the page).
  document.getElementById(a.values).innerHTML = zs
    .map((v, i) => `<span style="color:${color(v)}">z${i + 1}&nbsp;${sign(v)}${v.toFixed(4)}</span>`)
    .join(" ");
  vaeShowTypicality(a, zs); // pages/js/typicality.js
  window.vaeUpdateMs = performance.now() - started; // read by benchmarks/living_page.py
}

// The image source's pixels for the image as shown (`out`), of the type the page holds (`old`'s,
// as explorer/plots.py renders it): grey, the floats; RGB, one uint32 per pixel whose bytes are
// R, G, B, A (little endian, opaque), 8-bit levels rounded as explorer/figures/png.to_uint8
// rounds them (float32, half to even). Bokeh's row 0 is at the bottom: rows flipped.
function vaePixels(out, old) {
  const [channels, height, width] = out.shape.length === 3 ? out.shape : [1, ...out.shape];
  const x = out.data, plane = height * width;
  const pixels = new old.constructor(plane, [height, width]);
  if (channels === 1) {
    for (let r = 0; r < height; r++)
      pixels.set(x.subarray((height - 1 - r) * width, (height - r) * width), r * width);
    return pixels;
  }
  const level = (v) => {
    const scaled = Math.fround(Math.min(1, Math.max(0, v)) * 255);
    const near = Math.round(scaled);
    return near - scaled === 0.5 && near % 2 === 1 ? near - 1 : near;
  };
  for (let r = 0; r < height; r++) {
    const from = (height - 1 - r) * width;
    for (let c = 0; c < width; c++) {
      const k = from + c;
      const red = level(x[k]), green = level(x[plane + k]), blue = level(x[2 * plane + k]);
      pixels[r * width + c] = (red | (green << 8) | (blue << 16) | (255 << 24)) >>> 0;
    }
  }
  return pixels;
}
