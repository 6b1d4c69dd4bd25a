// feedbot preview: a click on the page turns into a new query (the server splits the page again).
// Plain JavaScript, no build step; the page's own scripts never run (they were removed, and the
// Content-Security-Policy allows this file only).
"use strict";
(function () {
  const page = document.getElementById("page");
  if (!page) return;
  const state = JSON.parse(page.dataset.fbState || "{}");
  const TARGET = { level: "[data-fb-level]", content: "[data-fb-box]", exclude: "[data-fb-path]" };

  function mode() {
    const checked = document.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : "level";
  }

  function target(node) {
    const found = node instanceof Element ? node.closest(TARGET[mode()]) : null;
    return found && page.contains(found) && found !== page ? found : null;
  }

  function go(changes) {
    const query = new URLSearchParams();
    for (const [key, values] of Object.entries(state)) {
      for (const value of values) query.append(key, value);
    }
    for (const [key, value] of Object.entries(changes)) {
      if (key === "exclude") query.append(key, value);
      else query.set(key, value);
    }
    window.location.assign("/preview?" + query.toString());
  }

  let hovered = null;
  page.addEventListener("mouseover", (event) => {
    const found = target(event.target);
    if (hovered && hovered !== found) hovered.classList.remove("fb-hover");
    if (found) found.classList.add("fb-hover");
    hovered = found;
  });
  page.addEventListener("mouseleave", () => {
    if (hovered) hovered.classList.remove("fb-hover");
    hovered = null;
  });
  page.addEventListener("click", (event) => {
    event.preventDefault(); // links inside the page lead nowhere from here
    if (page.dataset.fbKind === "text") return; // plain text: lines, no elements to select
    const found = target(event.target);
    if (!found) return;
    const which = mode();
    if (which === "level") go({ headline_selector: found.dataset.fbLevel });
    else if (which === "content") go({ content_selector: found.dataset.fbPath });
    else go({ exclude: found.dataset.fbPath });
  });
})();
