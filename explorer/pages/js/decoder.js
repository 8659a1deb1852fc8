// The decoder's forward pass, driven by the layer list of explorer/pages/layers.py.
// Activations are flat Float32Arrays; a layer's shape is [features] or [channels, height, width].

function vaeArray(encoded) {
  const bytes = Uint8Array.from(atob(encoded.base64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

function vaeBuild(spec) {
  return spec.map((layer) => {
    const built = Object.assign({}, layer);
    if (layer.weight) built.weight = vaeArray(layer.weight);
    if (layer.bias) built.bias = vaeArray(layer.bias);
    if (layer.weight) built.weightShape = layer.weight.shape;
    return built;
  });
}

function vaeLinear(layer, x) {
  const [outs, ins] = layer.weightShape;
  const w = layer.weight;
  const y = new Float32Array(outs);
  for (let o = 0; o < outs; o++) {
    let sum = layer.bias[o];
    const row = o * ins;
    for (let i = 0; i < ins; i++) sum += w[row + i] * x[i];
    y[o] = sum;
  }
  return { data: y, shape: [outs] };
}

function vaeConvTranspose2d(layer, x, shape) {
  const [cin, h, w] = shape;
  const [, cout, kh, kw] = layer.weightShape;
  const [sy, sx] = layer.stride, [py, px] = layer.padding, [oy, ox] = layer.output_padding;
  const ho = (h - 1) * sy - 2 * py + kh + oy, wo = (w - 1) * sx - 2 * px + kw + ox;
  const y = new Float32Array(cout * ho * wo);
  for (let co = 0; co < cout; co++) y.fill(layer.bias[co], co * ho * wo, (co + 1) * ho * wo);
  const wt = layer.weight;
  for (let ci = 0; ci < cin; ci++) {
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < w; ix++) {
        const v = x[(ci * h + iy) * w + ix];
        if (v === 0) continue; // after a ReLU most inputs are zero
        for (let co = 0; co < cout; co++) {
          const wBase = (ci * cout + co) * kh * kw, yBase = co * ho * wo;
          for (let ky = 0; ky < kh; ky++) {
            const yy = iy * sy - py + ky;
            if (yy < 0 || yy >= ho) continue;
            for (let kx = 0; kx < kw; kx++) {
              const xx = ix * sx - px + kx;
              if (xx < 0 || xx >= wo) continue;
              y[yBase + yy * wo + xx] += v * wt[wBase + ky * kw + kx];
            }
          }
        }
      }
    }
  }
  return { data: y, shape: [cout, ho, wo] };
}

function vaeConv2d(layer, x, shape) {
  const [cin, h, w] = shape;
  const [cout, , kh, kw] = layer.weightShape;
  const [sy, sx] = layer.stride, [py, px] = layer.padding;
  const ho = Math.floor((h + 2 * py - kh) / sy) + 1, wo = Math.floor((w + 2 * px - kw) / sx) + 1;
  const y = new Float32Array(cout * ho * wo);
  const wt = layer.weight;
  for (let co = 0; co < cout; co++) {
    for (let yy = 0; yy < ho; yy++) {
      for (let xx = 0; xx < wo; xx++) {
        let sum = layer.bias[co];
        for (let ci = 0; ci < cin; ci++) {
          const wBase = (co * cin + ci) * kh * kw;
          for (let ky = 0; ky < kh; ky++) {
            const iy = yy * sy - py + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = xx * sx - px + kx;
              if (ix < 0 || ix >= w) continue;
              sum += x[(ci * h + iy) * w + ix] * wt[wBase + ky * kw + kx];
            }
          }
        }
        y[(co * ho + yy) * wo + xx] = sum;
      }
    }
  }
  return { data: y, shape: [cout, ho, wo] };
}

function vaeChannelAffine(layer, x, shape) {
  const y = new Float32Array(x.length);
  const per = x.length / shape[0];
  for (let c = 0; c < shape[0]; c++) {
    const a = layer.weight[c], b = layer.bias[c];
    for (let k = c * per; k < (c + 1) * per; k++) y[k] = x[k] * a + b;
  }
  return { data: y, shape: shape };
}

function vaeElementwise(x, shape, f) {
  const y = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) y[k] = f(x[k]);
  return { data: y, shape: shape };
}

// z (an array of numbers) → the image as shown, a flat Float32Array, and its shape ([C, H, W]).
function vaeForward(net, z) {
  let x = Float32Array.from(z), shape = [z.length];
  for (const layer of net) {
    let out;
    switch (layer.type) {
      case "linear": out = vaeLinear(layer, x); break;
      case "conv_transpose2d": out = vaeConvTranspose2d(layer, x, shape); break;
      case "conv2d": out = vaeConv2d(layer, x, shape); break;
      case "batchnorm":
      case "affine": out = vaeChannelAffine(layer, x, shape); break;
      case "reshape": out = { data: x, shape: layer.shape }; break;
      case "relu": out = vaeElementwise(x, shape, (v) => (v > 0 ? v : 0)); break;
      case "leaky_relu": out = vaeElementwise(x, shape, (v) => (v > 0 ? v : v * layer.slope)); break;
      case "sigmoid": out = vaeElementwise(x, shape, (v) => 1 / (1 + Math.exp(-v))); break;
      case "tanh": out = vaeElementwise(x, shape, Math.tanh); break;
      case "clip": out = vaeElementwise(x, shape, (v) => Math.min(1, Math.max(0, v))); break;
      default: throw new Error("unknown layer " + layer.type);
    }
    x = out.data;
    shape = out.shape;
  }
  return { data: x, shape: shape };
}
