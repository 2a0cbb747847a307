#!/usr/bin/env bash
# Builds models/face_recognition.onnx: the 128-D face descriptor network of face-api.js
# (a ResNet-34-like network, dlib's dlib_face_recognition_resnet_model_v1 ported to tfjs), from the
# MIT-licensed npm package @vladmandic/face-api@1.7.15. The package ships the weights only (a tfjs
# weights manifest with uint8-quantised tensors); the network itself is code
# (src/faceRecognitionNet/*.ts). This script dequantises the weights, folds each scale layer into
# its convolution, and writes the same network as an ONNX graph with the onnx Python package
# (weights as float16): input "image" NCHW [1,3,150,150] RGB 0..255, output "descriptor" [1,128]. Run it once and commit the .onnx file and its sha256 (models/SHA256SUMS);
# `--check` runs face-api.js itself (Node.js, its bundled tfjs CPU backend) on random chips and
# compares. Needs python3 with venv, npm and node; downloads only from the npm registry and PyPI.
set -euo pipefail
cd "$(dirname "$0")"
WORK=${WORK:-$(mktemp -d)}
( cd "$WORK" && npm pack -q @vladmandic/face-api@1.7.15 >/dev/null && tar xzf vladmandic-face-api-1.7.15.tgz )
PKG="$WORK/package"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q onnx==1.17.0 numpy==2.1.3 onnxruntime==1.20.1
"$WORK/venv/bin/python" - "$PKG/model" <<'PY'
import json, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

model_dir = sys.argv[1]
manifest = json.load(open(f"{model_dir}/face_recognition_model-weights_manifest.json"))
raw = open(f"{model_dir}/face_recognition_model.bin", "rb").read()
weights, offset = {}, 0
for w in manifest[0]["weights"]:
    n = int(np.prod(w["shape"]))
    q = w.get("quantization")
    if q:  # tfjs uint8 quantisation: value = q * scale + min
        size = n * 1
        data = np.frombuffer(raw, np.uint8, n, offset).astype(np.float32) * q["scale"] + q["min"]
    else:
        size = n * 4
        data = np.frombuffer(raw, np.float32, n, offset)
    weights[w["name"]] = data.reshape(w["shape"]).astype(np.float32)
    offset += size
assert offset == len(raw), (offset, len(raw))

nodes, inits = [], []
count = [0]
def fresh(prefix):
    count[0] += 1
    return f"{prefix}_{count[0]}"
def const(name, array, dtype=np.float32):
    inits.append(numpy_helper.from_array(np.asarray(array, dtype), name))
    return name
def op(kind, inputs, **attrs):
    out = fresh(kind.lower())
    nodes.append(helper.make_node(kind, inputs, [out], **attrs))
    return out

def weight(array):
    # Large weights are stored as float16 and widened by a Cast the runtime folds once at load
    # (37 ms; the package's uint8 form dequantised inside the graph took tract 220-310 ms and
    # twice the memory to fold); float16 moves the descriptor by ~2e-4 (checked below).
    array = np.asarray(array, np.float32)
    if array.size < 1024:
        return const(fresh("w"), array)
    return op("Cast", [const(fresh("w16"), array, np.float16)], to=TensorProto.FLOAT)

def conv_layer(x, prefix, stride, relu, pad):
    # tfjs: conv2d (HWIO filters) + bias, then a per-channel scale layer (x*w + b), then relu.
    # The scale layer folds into the convolution: w*(conv(x)+bias)+b = conv'(x) + (w*bias+b).
    f = weights[f"{prefix}/conv/filters"]
    bias = weights[f"{prefix}/conv/bias"]
    sw, sb = weights[f"{prefix}/scale/weights"], weights[f"{prefix}/scale/biases"]
    w = np.transpose(f, (3, 2, 0, 1)) * sw[:, None, None, None]
    b = bias * sw + sb
    out = op("Conv", [x, weight(w), weight(b)], kernel_shape=list(f.shape[:2]),
             strides=[stride, stride], pads=[pad] * 4)
    return op("Relu", [out]) if relu else out

def residual(x, prefix):
    out = conv_layer(x, f"{prefix}/conv1", 1, True, 1)
    out = conv_layer(out, f"{prefix}/conv2", 1, False, 1)
    return op("Relu", [op("Add", [out, x])])

def residual_down(x, prefix, size_in, ch_in, ch_out):
    out = conv_layer(x, f"{prefix}/conv1", 2, True, 0)   # 'valid', stride 2
    out = conv_layer(out, f"{prefix}/conv2", 1, False, 1)
    conv_size, pool_size = (size_in - 3) // 2 + 1, size_in // 2
    pooled = op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
    if pool_size != conv_size:
        # face-api.js pads the convolution's output with one zero row and column at the end...
        assert pool_size == conv_size + 1
        pads = const(fresh("pads"), np.array([0, 0, 0, 0, 0, 0, 1, 1]), np.int64)
        out = op("Pad", [out, pads])
    if ch_in != ch_out:
        # ...and the pooled shortcut with zero channels.
        pads = const(fresh("pads"), np.array([0, 0, 0, 0, 0, ch_out - ch_in, 0, 0]), np.int64)
        pooled = op("Pad", [pooled, pads])
    return op("Relu", [op("Add", [pooled, out])]), pool_size

# face-api.js: (rgb - mean) / 255 on a 150x150 chip.
mean = np.array([122.782, 117.001, 104.298]).reshape(1, 3, 1, 1)
x = op("Div", [op("Sub", ["image", const("mean", mean)]), const("c255", np.array(255.0))])
x = conv_layer(x, "conv32_down", 2, True, 0)                   # 150 -> 72
x, size = op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2]), 35
for p in ("conv32_1", "conv32_2", "conv32_3"):
    x = residual(x, p)
x, size = residual_down(x, "conv64_down", size, 32, 64)         # 35 -> 17
for p in ("conv64_1", "conv64_2", "conv64_3"):
    x = residual(x, p)
x, size = residual_down(x, "conv128_down", size, 64, 128)       # 17 -> 8
for p in ("conv128_1", "conv128_2"):
    x = residual(x, p)
x, size = residual_down(x, "conv256_down", size, 128, 256)      # 8 -> 4
for p in ("conv256_1", "conv256_2"):
    x = residual(x, p)
x, size = residual_down(x, "conv256_down_out", size, 256, 256)  # 4 -> 2
x = op("Flatten", [op("GlobalAveragePool", [x])], axis=1)
nodes.append(helper.make_node("MatMul", [x, weight(weights["fc"])], ["descriptor"]))

graph = helper.make_graph(nodes, "face_recognition", [
    helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 150, 150])],
    [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, [1, 128])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="rollcall identity.sh")
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
onnx.save(model, "face_recognition.onnx")
print("wrote face_recognition.onnx", sum(t.ByteSize() for t in inits) // 1024, "KiB of weights")
PY
sha256sum face_recognition.onnx
if [ "${1:-}" = --check ]; then
  # The same random chips through face-api.js itself (its tfjs, CPU backend) and the ONNX file
  # (onnxruntime); measured 2026-12-01: largest difference 1.8e-4 on descriptors of norm ~1.3
  # (the float16 weights; 4.7e-6 with float32 ones).
  ( cd "$WORK" && npm install -q --no-save @vladmandic/face-api@1.7.15 @tensorflow/tfjs@4.22.0 \
      @tensorflow/tfjs-backend-wasm@4.22.0 >/dev/null 2>&1 )
  "$WORK/venv/bin/python" -c '
import json, numpy as np
chips = np.random.default_rng(7).integers(0, 256, (3, 150, 150, 3)).astype(float)
json.dump(chips.tolist(), open("'"$WORK"'/chips.json", "w"))'
  cat > "$WORK/check.cjs" <<'JS'
const tf = require('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const fs = require('fs');
(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  const dir = 'node_modules/@vladmandic/face-api/model/';
  const manifest = JSON.parse(fs.readFileSync(dir + 'face_recognition_model-weights_manifest.json'));
  const buf = fs.readFileSync(dir + 'face_recognition_model.bin');
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(tf.io.decodeWeights(bytes, manifest[0].weights));
  const out = [];
  for (const c of JSON.parse(fs.readFileSync('chips.json'))) {
    out.push(Array.from(await net.computeFaceDescriptor(tf.tensor3d(c, [150, 150, 3]))));
  }
  fs.writeFileSync('faceapi.json', JSON.stringify(out));
})();
JS
  ( cd "$WORK" && node check.cjs 2>/dev/null )
  "$WORK/venv/bin/python" - "$WORK" <<'PY'
import json, sys
import numpy as np, onnxruntime as ort
work = sys.argv[1]
chips = np.array(json.load(open(f"{work}/chips.json")), np.float32)
s = ort.InferenceSession("face_recognition.onnx")
ours = np.array([s.run(None, {"image": c.transpose(2, 0, 1)[None]})[0][0] for c in chips])
theirs = np.array(json.load(open(f"{work}/faceapi.json")))
diff = float(np.abs(ours - theirs).max())
print(f"largest difference from face-api.js: {diff:.2g}")
sys.exit(0 if diff < 1e-3 else 1)
PY
fi
