// Drag and drop for the outline: reordering renumbers the position fields, then save.
(function () {
  var list = document.getElementById("outline-pages");
  if (!list) return;
  var dragged = null;
  function renumber() {
    list.querySelectorAll("input.position").forEach(function (input, i) { input.value = i + 1; });
  }
  list.addEventListener("dragstart", function (e) {
    dragged = e.target.closest("li");
    e.dataTransfer.effectAllowed = "move";
  });
  list.addEventListener("dragover", function (e) {
    var over = e.target.closest("li");
    if (!dragged || !over || over === dragged) return;
    e.preventDefault();
    var after = e.clientY > over.getBoundingClientRect().top + over.offsetHeight / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });
  list.addEventListener("drop", function (e) { e.preventDefault(); renumber(); });
  list.addEventListener("dragend", function () { dragged = null; renumber(); });
})();
