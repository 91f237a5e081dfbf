/* reactbin: progressive enhancement only. Every page works without this file.
   User text is only ever set with textContent or attributes, never as HTML. */
"use strict";

(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function isTyping(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  /* ---- Keyboard: "/" focuses search, "c" copies the link, arrows move in the grid ---- */

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (event.key === "/") {
      const search = $("#q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if (event.key === "c") {
      const copy = $("#copy-link");
      if (copy && !copy.hidden) { event.preventDefault(); copy.click(); }
    } else if (/^Arrow(Left|Right|Up|Down)$/.test(event.key)) {
      moveInGrid(event);
    }
  });

  function moveInGrid(event) {
    const cards = $$("#grid .card");
    const index = cards.indexOf(document.activeElement);
    if (index < 0) return;
    const top = cards[0].getBoundingClientRect().top;
    const perRow = Math.max(1, cards.filter((c) => c.getBoundingClientRect().top === top).length);
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -perRow, ArrowDown: perRow }[event.key];
    const next = cards[index + step];
    if (next) { event.preventDefault(); next.focus(); }
  }

  /* ---- Grid: play the animation on hover and keyboard focus ---- */

  // The small video renditions (tinywebm, tinymp4: a fifth to a tenth of the bytes
  // of tinygif or the original GIF) play over the thumbnail. Until the worker has
  // made them (404), the original plays in the <img> instead.
  function showOriginal(img, on) {
    if (on && !img.dataset.still) {
      img.dataset.still = img.src;
      img.src = img.dataset.anim;
    } else if (!on && img.dataset.still) {
      img.src = img.dataset.still;
      delete img.dataset.still;
    }
  }

  function playSmall(card, img) {
    const base = img.dataset.anim.replace(/\.\w+$/, "/tiny"); // "/f/<id>.gif" -> "/f/<id>/tiny"
    const video = el("video", {
      class: "anim", width: img.width, height: img.height, loop: true, muted: true,
      autoplay: true, playsinline: true, "aria-hidden": "true",
    }, [
      el("source", { src: base + "webm.webm", type: "video/webm" }),
      el("source", { src: base + "mp4.mp4", type: "video/mp4" }),
    ]);
    video.muted = true; // the property, not only the attribute, lets autoplay start
    video.lastChild.addEventListener("error", () => {
      video.remove();
      img.dataset.noVideo = "1";
      if (card.matches(":hover, :focus-within")) showOriginal(img, true);
    });
    img.after(video);
  }

  function setAnimated(card, on) {
    const img = card && card.querySelector("img[data-anim]");
    if (!img) return;
    const video = card.querySelector("video.anim");
    if (!on) {
      if (video) video.remove();
      showOriginal(img, false);
    } else if (img.dataset.noVideo) {
      showOriginal(img, true);
    } else if (!video) {
      playSmall(card, img);
    }
  }
  const cardOf = (target) => target instanceof Element ? target.closest(".card") : null;
  for (const [type, on] of [["mouseover", true], ["focusin", true], ["mouseout", false], ["focusout", false]]) {
    document.addEventListener(type, (event) => {
      const card = cardOf(event.target);
      if (card && !card.contains(event.relatedTarget)) setAnimated(card, on);
    });
  }

  /* ---- Copy buttons ---- */

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain http on a LAN address has no Clipboard API: the old way still works there.
    const area = el("textarea", { readonly: true, class: "sr-only" });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) throw new Error("copy refused");
  }

  const copyStatus = $("#copy-status");
  for (const button of $$("button[data-copy]")) {
    button.hidden = false;
    const label = button.textContent;
    button.addEventListener("click", async () => {
      try {
        await copyText(button.dataset.copy);
        button.textContent = "Copied!";
        const what = label.replace("Copy ", "");
        if (copyStatus) copyStatus.textContent = what[0].toUpperCase() + what.slice(1) + " copied to the clipboard.";
      } catch (error) {
        if (copyStatus) copyStatus.textContent = "Copying failed: select the link above and copy it.";
      }
      setTimeout(() => { button.textContent = label; }, 1600);
    });
  }

  /* ---- Gallery: live search and endless "load more" on the API cursor ---- */

  const grid = $("#grid");
  const search = $("#q");
  const more = $("#more");
  if (grid && search && more) {
    const status = $("#status");
    const empty = $("#empty");
    const pageSize = grid.dataset.pageSize || "48";
    const params = new URLSearchParams(location.search);
    const tags = params.getAll("tag");
    let cursor = more.dataset.cursor || "";
    let query = search.value.trim();
    let controller = null;
    let timer = 0;

    const card = (image) => {
      const [w, h] = fit(image.width, image.height);
      const img = el("img", {
        src: "/api/v1/images/" + image.id + "/thumbnail", width: w, height: h,
        alt: shorten(image.description || image.title, 150), loading: "lazy", decoding: "async",
        "data-anim": image.frame_count > 1 ? "/f/" + image.url.split("/f/").pop() : null,
      });
      return el("li", {}, [el("a", { class: "card", href: "/i/" + image.id }, [
        img, el("span", { class: "title", text: image.title })])]);
    };
    const fit = (w, h) => {
      const scale = Math.min(1, 320 / Math.max(w, h, 1));
      return [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))];
    };
    const shorten = (text, n) => {
      text = text.split(/\s+/).join(" ").trim();
      return text.length <= n ? text : text.slice(0, n - 1).trimEnd() + "…";
    };
    const pageUrl = (withCursor) => {
      const p = new URLSearchParams();
      if (query) p.set("q", query);
      for (const tag of tags) p.append("tag", tag);
      if (withCursor && cursor) p.set("cursor", cursor);
      const s = p.toString();
      return "/" + (s ? "?" + s : "");
    };

    async function load(append) {
      if (controller) controller.abort();
      controller = new AbortController();
      const p = new URLSearchParams({ limit: pageSize });
      if (query) p.set("q", query);
      for (const tag of tags) p.append("tag", tag);
      if (append && cursor) p.set("cursor", cursor);
      let page;
      try {
        const response = await fetch("/api/v1/images?" + p, {
          signal: controller.signal, headers: { Accept: "application/json" },
        });
        page = await response.json();
        if (!response.ok) throw new Error(page.detail || "Search failed.");
      } catch (error) {
        if (error.name === "AbortError") return;
        status.textContent = "Search failed: " + (typeof error.message === "string" ? error.message : "try again") + ".";
        return;
      }
      const cards = page.items.map(card);
      if (append) grid.append(...cards); else grid.replaceChildren(...cards);
      cursor = page.next_cursor || "";
      more.hidden = !cursor;
      more.href = pageUrl(true);
      empty.hidden = grid.children.length > 0;
      if (!append) {
        const count = grid.children.length + (cursor ? "+" : "");
        status.textContent = query ? count + " results for “" + query + "”" : "";
        empty.textContent = query || tags.length ? "Nothing matches. Try fewer or shorter words." : "No images yet.";
        history.replaceState(null, "", pageUrl(false));
        for (const chip of $$(".chips .chip")) {
          const url = new URL(chip.href);
          if (query) url.searchParams.set("q", query); else url.searchParams.delete("q");
          chip.href = url.pathname + url.search;
        }
      }
    }

    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const value = search.value.trim();
        if (value !== query) { query = value; load(false); }
      }, 250);
    });
    search.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        const first = $("#grid .card");
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape" && search.value) {
        search.value = "";
        search.dispatchEvent(new Event("input"));
      }
    });
    more.addEventListener("click", (event) => {
      event.preventDefault();
      if (cursor) load(true);
    });
    if ("IntersectionObserver" in window) {
      new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting) && cursor && !more.hidden) load(true);
      }, { rootMargin: "400px" }).observe(more);
    }
  }

  /* ---- Tag autocomplete: a datalist that completes the last comma-separated tag ---- */

  for (const input of $$("input[data-autocomplete]")) {
    const list = document.getElementById(input.getAttribute("list"));
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const parts = input.value.split(",");
        const last = parts.pop().trim().toLowerCase();
        if (!last) { list.replaceChildren(); return; }
        const before = parts.map((part) => part.trim()).filter(Boolean);
        try {
          const response = await fetch("/api/v1/tags?limit=8&prefix=" + encodeURIComponent(last));
          if (!response.ok) return;
          const names = (await response.json()).map((tag) => tag.name)
            .filter((name) => !before.includes(name));
          list.replaceChildren(...names.map((name) =>
            el("option", { value: [...before, name].join(", ") })));
        } catch (error) { /* suggestions are optional */ }
      }, 150);
    });
  }

  /* ---- Upload: many files, drag and drop, paste, per-file progress and result ---- */

  const form = $("#upload-form");
  if (form) enhanceUpload(form);

  function enhanceUpload(form) {
    const input = $("#file", form);
    const queue = $("#queue", form);
    const drop = $("#drop", form);
    const button = $("#upload-button", form);
    const maxBytes = Number(form.dataset.maxBytes);
    const items = [];
    input.multiple = true;
    input.required = false;
    $("#drop-hint").hidden = false;
    $('label[for="file"]', form).textContent = "Image files";
    $("#shared-legend").textContent = "Details for every file";
    $('label[for="title"] .hint', form).textContent = "(default: each file's name)";

    const pending = () => items.filter((item) => item.state === "pending");
    const refresh = () => {
      const n = pending().length;
      button.textContent = n > 1 ? "Upload " + n + " files" : "Upload";
      queue.hidden = items.length === 0;
    };

    function add(files) {
      for (const file of files) {
        const name = file.name || "pasted image";
        const preview = el("img", { alt: "", src: URL.createObjectURL(file) });
        preview.addEventListener("error", () => preview.classList.add("broken"));
        const title = el("input", { type: "text", maxlength: "200", placeholder: name.replace(/\.[^.]+$/, "").replace(/[_-]+/g, " ") });
        const tags = el("input", { type: "text", placeholder: "extra tags" });
        const remove = el("button", { type: "button", text: "Remove", "aria-label": "Remove " + name });
        const progress = el("progress", { max: "100", value: "0", hidden: true, "aria-label": "Upload progress of " + name });
        const result = el("p", { class: "result", role: "status" });
        const li = el("li", { class: "item" }, [
          preview, el("span", { class: "name", text: name }), remove,
          el("div", { class: "fields" }, [
            el("label", {}, ["Title", title]), el("label", {}, ["Tags", tags])]),
          progress, result]);
        const item = { file, name, li, title, tags, remove, progress, result, state: "pending" };
        if (file.size > maxBytes) {
          finish(item, "failed", "Refused: larger than the upload limit.");
        }
        remove.addEventListener("click", () => {
          items.splice(items.indexOf(item), 1);
          li.remove();
          refresh();
        });
        items.push(item);
        queue.append(li);
      }
      refresh();
    }

    function finish(item, state, message, link) {
      item.state = state;
      item.li.classList.add(state);
      item.progress.hidden = true;
      item.title.disabled = item.tags.disabled = true;
      item.remove.hidden = state !== "failed";
      item.result.replaceChildren(message);
      if (link) item.result.append(" ", el("a", { href: link.href, text: link.text }));
    }

    function send(item) {
      return new Promise((resolve) => {
        const data = new FormData();
        data.append("file", item.file, item.file.name || "pasted.png");
        data.append("title", item.title.value.trim() || form.elements.title.value.trim());
        data.append("description", form.elements.description.value);
        const tags = (form.elements.tags.value + "," + item.tags.value).split(",");
        data.append("tags", tags.map((tag) => tag.trim()).filter(Boolean).join(", "));
        const xhr = new XMLHttpRequest();
        xhr.open("POST", "/upload");
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
        item.state = "sending";
        item.progress.hidden = false;
        item.remove.hidden = true;
        xhr.upload.onprogress = (event) => {
          if (event.lengthComputable) item.progress.value = Math.round(99 * event.loaded / event.total);
        };
        xhr.onload = () => {
          let body = {};
          try { body = JSON.parse(xhr.responseText); } catch (error) { /* not JSON */ }
          const detail = typeof body.detail === "string" ? body.detail : "the server refused it.";
          if (xhr.status === 201) {
            finish(item, "done", "Uploaded.", { href: body.page_url, text: "Open “" + body.title + "”" });
            const alike = body.near_duplicates || [];
            if (alike.length) {
              item.li.classList.add("near");
              item.result.append(" Looks like an image already in the library: ",
                el("a", { href: "/i/" + alike[0].id, text: "compare" }), ".");
            }
          } else if (xhr.status === 200 && body.restored_from_trash) {
            finish(item, "done", "It was in the trash: restored.", { href: body.page_url, text: "Open “" + body.title + "”" });
          } else if (xhr.status === 409 && body.id) {
            finish(item, "dup", "Already in the library.", { href: "/i/" + body.id, text: "Open the existing image" });
          } else if (xhr.status === 401) {
            finish(item, "failed", "Your session has ended.", { href: "/login?next=/upload", text: "Log in again" });
          } else {
            finish(item, "failed", "Refused: " + detail);
          }
          resolve();
        };
        xhr.onerror = () => { finish(item, "failed", "Network error: nothing was uploaded."); resolve(); };
        xhr.send(data);
      });
    }

    input.addEventListener("change", () => { add(input.files); input.value = ""; });
    for (const type of ["dragenter", "dragover"]) {
      document.addEventListener(type, (event) => {
        event.preventDefault();
        drop.classList.add("over");
      });
    }
    for (const type of ["dragleave", "drop"]) {
      document.addEventListener(type, (event) => {
        if (type === "drop") { event.preventDefault(); add(event.dataTransfer.files); }
        if (type === "drop" || !event.relatedTarget) drop.classList.remove("over");
      });
    }
    document.addEventListener("paste", (event) => {
      const files = event.clipboardData ? Array.from(event.clipboardData.files) : [];
      if (files.length) { event.preventDefault(); add(files); }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const todo = pending();
      if (!todo.length) {
        input.focus();
        return;
      }
      button.disabled = true;
      // Two at a time: a phone on a slow link still sees steady progress on each.
      const workers = [0, 1].map(async () => {
        let item;
        while ((item = todo.shift())) await send(item);
      });
      await Promise.all(workers);
      button.disabled = false;
      refresh();
    });
    refresh();
  }
})();
