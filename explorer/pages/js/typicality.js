// Typicality on the living page: z's log density under the Gaussian fit of the data's aggregate
// posterior that the page carries (explorer/compute/typicality.py, GaussianFit: mean, W = L⁻¹
// lower triangular, log det), log N(z) = -½ (D log 2π + log det + |W (z − mean)|²); its
// percentile among the data's posterior means (the share strictly below, as the app counts);
// and log N(z; 0, I) under the prior.
function vaeTypicality(fit, z) {
  const n = z.length, log2pi = Math.log(2 * Math.PI);
  let quad = 0, square = 0;
  for (let i = 0; i < n; i++) {
    const row = fit.whiten[i];
    let y = 0;
    for (let j = 0; j <= i; j++) y += row[j] * (z[j] - fit.mean[j]);
    quad += y * y;
    square += z[i] * z[i];
  }
  const logq = -0.5 * (n * log2pi + fit.log_det + quad);
  let low = 0, high = fit.data.length; // the first of the sorted densities not below log q
  while (low < high) {
    const mid = (low + high) >> 1;
    if (fit.data[mid] < logq) low = mid + 1;
    else high = mid;
  }
  const percentile = (100 * low) / fit.data.length;
  return { logq, percentile, logp: -0.5 * (n * log2pi + square), off: percentile < fit.off_below };
}

// The typicality line and the warning: plain elements of the page's template (ids a.typicality,
// a.off_manifold); window.vaeTypicalityShown holds the numbers, read by tests.
function vaeShowTypicality(a, z) {
  if (!a.fit) return; // no data sample went into the page: its line says so
  const fit = (window.__vaeFit ??= JSON.parse(a.fit));
  const t = vaeTypicality(fit, z);
  window.vaeTypicalityShown = t;
  document.getElementById(a.typicality).innerHTML =
    `log q(z) = ${t.logq.toFixed(1)} (percentile ${t.percentile.toFixed(0)} of the data), ` +
    `log p(z) under N(0, I) = ${t.logp.toFixed(1)} <span style="color:#666">(${fit.form})</span>`;
  document.getElementById(a.off_manifold).style.display = t.off ? "block" : "none";
}
