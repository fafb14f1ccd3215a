// The portal's own small behaviours; pages work without them. No inline scripts anywhere (CSP).
document.addEventListener("click", function (event) {
  var printButton = event.target.closest("[data-print]");
  if (printButton) {
    event.preventDefault();
    window.print();
  }
});
