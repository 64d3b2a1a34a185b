// Search suggestions as you type: the header search box asks the search API
// for the best few pages (the last word as a prefix) and lists them under the
// box. Without JavaScript the box is a plain GET form to /search.
(function () {
  "use strict";
  const input = document.querySelector(".search-box input[type=search]");
  if (!input || !window.fetch) return;
  const list = document.getElementById("search-suggestions");
  const api = input.form.dataset.suggest;
  let timer = null, active = -1, asked = "";

  function query(text) {
    // Complete the word being typed unless the user writes query syntax.
    const trimmed = text.trim();
    return /[\p{L}\p{N}]{3,}$/u.test(trimmed) && !/[:"*~()]/.test(trimmed) ? trimmed + "*" : trimmed;
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function show(results) {
    list.replaceChildren();
    results.forEach(function (hit, i) {
      const option = document.createElement("li");
      option.id = "search-suggestion-" + i;
      option.setAttribute("role", "option");
      const link = document.createElement("a");
      link.href = hit.url;
      link.tabIndex = -1;
      const title = document.createElement("span");
      title.textContent = hit.title;
      const path = document.createElement("small");
      path.textContent = hit.path;
      link.append(title, path);
      option.append(link);
      list.append(option);
    });
    list.hidden = results.length === 0;
    input.setAttribute("aria-expanded", String(results.length > 0));
  }

  function highlight(index) {
    const options = list.querySelectorAll("[role=option]");
    if (!options.length) return;
    active = (index + options.length) % options.length;
    options.forEach(function (o, i) { o.setAttribute("aria-selected", String(i === active)); });
    input.setAttribute("aria-activedescendant", options[active].id);
  }

  async function suggest() {
    const text = input.value;
    if (text.trim().length < 3) { close(); return; }
    asked = text;
    try {
      const response = await fetch(api + "?limit=6&q=" + encodeURIComponent(query(text)),
                                   {headers: {"Accept": "application/json"}});
      if (!response.ok || asked !== input.value) return;
      const data = await response.json();
      show(data.results.map(function (hit) {
        return {title: hit.title, path: hit.path, url: input.form.dataset.pages + encodeURI(hit.path)};
      }));
    } catch (err) {
      close();  // suggestions are a convenience; the form still works
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 150);
  });
  input.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      window.location.href = list.querySelectorAll("[role=option] a")[active].href;
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 200); });
})();
