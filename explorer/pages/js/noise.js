// ε ~ N(0, I) from a seed: mulberry32 and Box–Muller, as explorer/compute/noise.py draws it.
function vaeUniforms(seed, count) {
  let state = seed >>> 0;
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    state = (state + 0x6D2B79F5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state) >>> 0;
    t = (((t + (Math.imul(t ^ (t >>> 7), 61 | t) >>> 0)) >>> 0) ^ t) >>> 0;
    out[k] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

function vaeStandardNormal(seed, n) {
  const u = vaeUniforms(seed, 2 * Math.ceil(n / 2));
  const eps = new Float32Array(n);
  for (let k = 0; k < u.length; k += 2) {
    const radius = Math.sqrt(-2.0 * Math.log(1.0 - u[k]));
    const angle = 2.0 * Math.PI * u[k + 1];
    if (k < n) eps[k] = radius * Math.cos(angle);
    if (k + 1 < n) eps[k + 1] = radius * Math.sin(angle);
  }
  return eps;
}

// Resample's next seed, as explorer/compute/noise.next_seed draws it: low + ⌊u·count⌋.
function vaeNextSeed(seed, low, count) {
  return low + Math.floor(vaeUniforms(seed, 1)[0] * count);
}
