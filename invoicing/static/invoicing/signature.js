// The customer's signature on the job page: drawn with a finger, a pen or a mouse on the
// canvas, posted as a PNG data URL in the hidden "signature" field. Without JavaScript the
// form still completes the job (without a signature).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var field = document.getElementById("id_signature");
  var clear = document.getElementById("signature-clear");
  if (!canvas || !field || !canvas.getContext) {
    return;
  }
  var context = canvas.getContext("2d");
  var drawing = false;
  var drawn = false;
  context.lineWidth = 2.5;
  context.lineCap = "round";
  context.lineJoin = "round";
  context.strokeStyle = "#111";

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
    };
  }

  function save() {
    field.value = drawn ? canvas.toDataURL("image/png") : "";
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    var p = point(event);
    context.beginPath();
    context.moveTo(p.x, p.y);
    context.lineTo(p.x + 0.1, p.y + 0.1);
    context.stroke();
    drawn = true;
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) {
      return;
    }
    event.preventDefault();
    var p = point(event);
    context.lineTo(p.x, p.y);
    context.stroke();
  });
  function stop() {
    if (drawing) {
      drawing = false;
      save();
    }
  }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("pointerleave", stop);
  if (clear) {
    clear.addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      save();
    });
  }
  var form = canvas.closest("form");
  if (form) {
    form.addEventListener("submit", save);
  }
})();
