/* KYC review screen (templates/console/kyc/review.html): zoom and rotate each document, draw PDFs
   inline with pdf.js, and the deliberate decision keys.

   Keys (never while typing in a field): `a` opens the approval of the first waiting document
   (selects "Approve", focuses "Confirm": Enter decides), `r` opens a request for a new upload
   (selects it, focuses the reason list), `+` / `-` zoom the document under the pointer (or the
   first one), `o` rotates it. No key decides anything by itself.

   PDFs: the file route answers a sandboxed attachment (`Content-Security-Policy: sandbox`),
   which Chromium will not show in a frame; pdf.js fetches the same bytes and draws them on a
   canvas here, in our origin, with eval off (isEvalSupported: false; the CSP forbids it anyway)
   and no scripting, so nothing in the PDF runs. Loaded only when the page shows a PDF. */
const PDFJS = "/static/vendor/pdfjs-4.9.155/pdf.min.mjs";
const MAX_PAGES = 5;

function state(viewer) {
  if (!viewer._kyc) viewer._kyc = { zoom: 1, rotate: 0 };
  return viewer._kyc;
}

function apply(viewer) {
  const s = state(viewer);
  const el = viewer.querySelector("[data-zoomable]");
  if (!el) return;
  el.style.transform = `rotate(${s.rotate}deg) scale(${s.zoom})`;
  el.style.transformOrigin = s.zoom > 1 || s.rotate ? "center center" : "";
  viewer.classList.toggle("zoomed", s.zoom !== 1 || s.rotate !== 0);
  viewer.dataset.zoom = String(s.zoom);
  viewer.dataset.rotate = String(s.rotate);
}

function zoom(viewer, dir) {
  const s = state(viewer);
  s.zoom = Math.min(4, Math.max(0.5, Math.round((s.zoom + (dir === "in" ? 0.25 : -0.25)) * 100) / 100));
  apply(viewer);
}

function rotate(viewer) {
  const s = state(viewer);
  s.rotate = (s.rotate + 90) % 360;
  apply(viewer);
}

function reset(viewer) {
  viewer._kyc = { zoom: 1, rotate: 0 };
  apply(viewer);
}

let hovered = null;
document.addEventListener("mouseover", (e) => {
  const v = e.target.closest && e.target.closest("[data-viewer]");
  if (v) hovered = v;
});

document.addEventListener("click", (e) => {
  const btn = e.target.closest("[data-zoom], [data-rotate], [data-reset]");
  if (!btn) return;
  const viewer = btn.closest("[data-viewer]");
  if (!viewer) return;
  e.preventDefault();
  if (btn.dataset.zoom) zoom(viewer, btn.dataset.zoom);
  else if (btn.hasAttribute("data-rotate")) rotate(viewer);
  else reset(viewer);
});

function firstPendingForm() {
  return document.querySelector("[data-pending] [data-decision-form]");
}

function openDecision(outcome) {
  const form = firstPendingForm();
  if (!form) return false;
  const radio = form.querySelector(`input[name="outcome"][value="${outcome}"]`);
  if (radio) radio.checked = true;
  form.closest("figure").scrollIntoView({ block: "nearest", behavior: "smooth" });
  form.classList.add("opened");
  const focus = outcome === "approve" ? form.querySelector("button.confirm") : form.querySelector('select[name="reason"]');
  if (focus) focus.focus();
  return true;
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  const key = e.key.toLowerCase();
  const viewer = hovered && document.body.contains(hovered) ? hovered : document.querySelector("[data-viewer]");
  if (key === "a" || key === "r") {
    if (openDecision(key === "a" ? "approve" : "retry")) e.preventDefault();
  } else if ((key === "+" || key === "=" || key === "-") && viewer) {
    e.preventDefault();
    zoom(viewer, key === "-" ? "out" : "in");
  } else if (key === "o" && viewer) {
    e.preventDefault();
    rotate(viewer);
  }
});

// Picking a reason of the other kind moves the outcome along (final → reject, retry → new upload),
// so the form never posts a reason the chosen outcome refuses without the reviewer seeing it.
document.addEventListener("change", (e) => {
  const sel = e.target;
  if (!(sel instanceof HTMLSelectElement) || sel.name !== "reason") return;
  const kind = sel.selectedOptions[0] && sel.selectedOptions[0].dataset.kind;
  const form = sel.form;
  if (!kind || !form) return;
  const checked = form.querySelector('input[name="outcome"]:checked');
  if (!checked || checked.value === "approve") {
    const want = kind === "final" ? "reject" : "retry";
    const radio = form.querySelector(`input[name="outcome"][value="${want}"]`);
    if (radio) radio.checked = true;
  }
});

let pdfjs = null;
async function renderPdfs(root) {
  const boxes = [...root.querySelectorAll("[data-pdf]:not([data-rendered])")];
  if (!boxes.length) return;
  if (!pdfjs) {
    pdfjs = await import(boxes[0].dataset.lib || PDFJS);
  }
  for (const box of boxes) {
    box.setAttribute("data-rendered", "");
    if (!pdfjs.GlobalWorkerOptions.workerSrc) pdfjs.GlobalWorkerOptions.workerSrc = box.dataset.worker;
    const status = box.querySelector(".pdf-status");
    try {
      const resp = await fetch(box.dataset.pdf, { credentials: "same-origin" });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const data = new Uint8Array(await resp.arrayBuffer());
      const doc = await pdfjs.getDocument({ data, isEvalSupported: false, enableXfa: false }).promise;
      const width = Math.max(240, box.clientWidth || 320);
      for (let n = 1; n <= Math.min(doc.numPages, MAX_PAGES); n++) {
        const page = await doc.getPage(n);
        const base = page.getViewport({ scale: 1 });
        const viewport = page.getViewport({ scale: (width / base.width) * (window.devicePixelRatio || 1) });
        const canvas = document.createElement("canvas");
        canvas.width = Math.floor(viewport.width);
        canvas.height = Math.floor(viewport.height);
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", `PDF page ${n}`);
        canvas.className = "pdf-page";
        await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
        box.appendChild(canvas);
      }
      box.dataset.pages = String(doc.numPages);
      if (status) status.remove();
    } catch (err) {
      box.dataset.error = String(err && err.message || err);
      if (status) status.textContent = box.dataset.error;
    }
  }
}

renderPdfs(document);
// a decision swaps one document's card (outerHTML): look for new PDFs in the whole page
document.body.addEventListener("htmx:afterSwap", () => renderPdfs(document));
