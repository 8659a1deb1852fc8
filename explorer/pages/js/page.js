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
  const [height, width] = out.shape.slice(-2);
  const old = a.image.data[a.image_column][0];
  const flipped = new old.constructor(old.length, [height, width]); // Bokeh: row 0 at the bottom
  for (let r = 0; r < height; r++)
    flipped.set(out.data.subarray((height - 1 - r) * width, (height - r) * width), r * width);
  a.image.data = Object.assign({}, a.image.data, {[a.image_column]: [flipped]});

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
  window.vaeUpdateMs = performance.now() - started; // read by benchmarks/living_page.py
}
