#!/usr/bin/env python3
"""An independent referee for rollcall's photos: re-measures each image with MediaPipe's Python
package (its own runtime, its short-range face detector and the attention FaceMesh model with
refined iris landmarks — a different landmark model from the pipeline's FaceMesh + Iris) and
with an independent hair-top scan written here in numpy. Prints one JSON object per file:

  {"file", "faces", "width", "height", "eye_center_x", "eye_line", "face_width", "head_top",
   "hair_cut", "yaw_deg", "pitch_deg", "roll_deg"}

in the photo's pixels (eye_line above the bottom edge, head_top below the top edge), or
{"file", "faces": 0} when no face is found. Run by scripts/referee (which keeps the venv).

    scripts/referee PHOTO...
"""
import json
import os
import re
import sys

import cv2
import mediapipe as mp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CANONICAL = os.path.join(HERE, "..", "crates", "pipeline", "models", "canonical_face.rs")
# Longest side the models see; larger frames are reduced first (the models' inputs are 128–192 px).
MAX_SIDE = 1600


def canonical():
    """(landmark ids, weights, positions) of MediaPipe's canonical face, from the pipeline's
    generated table (the same data; the fit below is this script's own)."""
    rows = re.findall(r"\((\d+), ([-\d.]+), \[([-\d.]+), ([-\d.]+), ([-\d.]+)\]\)",
                      open(CANONICAL).read())
    ids = np.array([int(r[0]) for r in rows])
    w = np.array([float(r[1]) for r in rows])
    p = np.array([[float(v) for v in r[2:]] for r in rows])
    return ids, w, p


IDS, WEIGHTS, MODEL = canonical()


def pose(points):
    """Weighted orthogonal Procrustes of the canonical face onto 3D landmarks (pixels, y down,
    z away from the camera): yaw, pitch, roll in degrees."""
    q = points[IDS] * np.array([1.0, -1.0, -1.0])
    w = WEIGHTS / WEIGHTS.sum()
    a = MODEL - (w[:, None] * MODEL).sum(0)
    b = q - (w[:, None] * q).sum(0)
    u, _, vt = np.linalg.svd((b * w[:, None]).T @ a)
    d = np.sign(np.linalg.det(u @ vt))
    r = u @ np.diag([1.0, 1.0, d]) @ vt
    f, x = r[:, 2], r[:, 0]
    return (float(np.degrees(np.arctan2(f[0], f[2]))),
            float(np.degrees(np.arctan2(f[1], np.hypot(f[0], f[2])))),
            float(-np.degrees(np.arctan2(x[1], x[0]))))


def hair_top(img, eye_mid, up, across, face_width):
    """First row from the top, along the face's up direction, where a band as wide as 0.44 face
    widths above the eyes stops looking like the backdrop (the median of the photo's top
    corners). Returns the distance of that point from the top edge and whether the hair reaches
    the edge."""
    h, w = img.shape[:2]
    k = max(4, min(12, w // 30))
    corners = np.concatenate([img[:k, :k].reshape(-1, 3), img[:k, w - k:].reshape(-1, 3)])
    backdrop = np.median(corners.astype(np.float64), axis=0)
    dist = np.sqrt(((img.astype(np.float64) - backdrop) ** 2).sum(axis=2))
    last, clear = None, 0.0
    for s in np.arange(0.0, 2.0 * face_width, 0.5):
        c = eye_mid + up * s
        ts = np.linspace(-0.22 * face_width, 0.22 * face_width, 25)
        xs = np.round(c[0] + across[0] * ts).astype(int)
        ys = np.round(c[1] + across[1] * ts).astype(int)
        ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        if not ok.any():
            # Out of the photo: still on the head (the hair is cut by the top edge), or past it.
            if clear < 1.5 or last is None:
                return float(c[1]), True
            return float(last[1]), False
        if (dist[ys[ok], xs[ok]] > 28.0).mean() >= 0.25:
            last, clear = c, 0.0
        else:
            clear += 0.5
            if clear > 0.06 * face_width:
                break
    if last is None:
        return float("nan"), False
    return float(last[1]), False


def measure(path, face_mesh, detector):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        return {"file": path, "error": "unreadable"}
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    k = min(1.0, MAX_SIDE / max(h, w))
    small = cv2.resize(img, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else img
    faces = detector.process(small).detections or []
    res = face_mesh.process(small)
    if not res.multi_face_landmarks:
        return {"file": path, "faces": len(faces)}
    sh, sw = small.shape[:2]
    lm = res.multi_face_landmarks[0].landmark
    pts = np.array([[p.x * sw / k, p.y * sh / k, p.z * sw / k] for p in lm])
    eye_r, eye_l = pts[468, :2], pts[473, :2]  # iris centres: subject's right (image left), left
    eye_mid = (eye_r + eye_l) / 2
    across = (eye_l - eye_r) / np.linalg.norm(eye_l - eye_r)
    up = np.array([across[1], -across[0]])
    face_width = float(np.linalg.norm(pts[454, :2] - pts[234, :2]))
    top, cut = hair_top(img, eye_mid, up, across, face_width)
    yaw, pitch, roll = pose(pts)
    return {
        "file": path, "faces": len(faces), "width": w, "height": h,
        "eye_center_x": float(eye_mid[0]), "eye_line": float(h - eye_mid[1]),
        "face_width": face_width, "head_top": top, "hair_cut": cut,
        "yaw_deg": yaw, "pitch_deg": pitch, "roll_deg": roll,
    }


def main():
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                         refine_landmarks=True, min_detection_confidence=0.5) as fm, \
         mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5) as det:
        for path in sys.argv[1:]:
            print(json.dumps(measure(path, fm, det)), flush=True)


if __name__ == "__main__":
    main()
