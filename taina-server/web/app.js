// Tainá's web app: plain ES module, no build step. It talks only to /api/v1 (cookie session with a
// CSRF token) and to the realtime socket; every screen is a function that renders into <main>.

const $ = (sel, root = document) => root.querySelector(sel);
const app = $("#app");

// ---------- DOM helpers ----------

/** Creates an element: h("button.primary", {onclick}, "Save"). */
function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A random id; `crypto.randomUUID` exists only on HTTPS pages, and many homes serve plain HTTP. */
function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function toast(message, kind = "info") {
  const t = h("div.toast" + (kind === "error" ? ".error" : ""), { role: kind === "error" ? "alert" : "status" }, message);
  $("#toasts").append(t);
  setTimeout(() => t.remove(), 6000);
}

function bytes(n) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

// ---------- the API ----------

class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    Object.assign(this, { status, code, field, retryAfter });
  }
}

/** What an error means, in words a person understands. */
function explain(e) {
  if (!(e instanceof ApiError)) return "Something went wrong. Please try again.";
  switch (e.code) {
    case "network": return "Cannot reach your community's server. Check your connection and try again.";
    case "unauthenticated": return "Please sign in again.";
    case "forbidden": return e.message && e.message !== "your role does not allow this"
      ? capital(e.message) : "You are not allowed to do that.";
    case "not_found": return "That no longer exists (or you cannot see it).";
    case "conflict": return capital(e.message);
    case "invalid": return e.field ? `${label(e.field)}: ${e.message}.` : capital(e.message);
    case "too_large": return "That file is too large for this server.";
    case "quota_exceeded": return "Your community's storage is full. Ask an admin to make room or raise the quota.";
    case "storage_full": return "The server's disk is full, so nothing was saved. Tell whoever runs the server.";
    case "rate_limited": return `Too many attempts. Please wait ${e.retryAfter || "a few"} seconds and try again.`;
    default: return "Something went wrong on the server. Please try again in a moment.";
  }
}
const capital = (s) => (s ? s[0].toUpperCase() + s.slice(1) : "");
const label = (field) => capital(field.replaceAll("_", " "));

// Over HTTPS the server names its cookies `__Host-taina_*` (only this origin can set them).
function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)__Host-taina_csrf=([^;]+)/)
    || document.cookie.match(/(?:^|;\s*)taina_csrf=([^;]+)/);
  return m ? m[1] : "";
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf();
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network", "network");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const err = data?.error || {};
    throw new ApiError(response.status, err.code || "internal", err.message || "", err.field,
      response.headers.get("Retry-After"));
  }
  return data;
}

/** Uploads a form with progress (fetch cannot report upload progress). */
function uploadWithProgress(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${path}`);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, "network", "network"));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data?.error?.code || "internal", data?.error?.message || "",
        data?.error?.field, xhr.getResponseHeader("Retry-After")));
    };
    xhr.send(form);
  });
}

/** A large file, resumable with tus: the upload's URL is kept so a retry goes on where it stopped. */
async function tusUpload(file, folderId, onProgress, asPhoto = false) {
  const key = `tus:${folderId}:${file.name}:${file.size}:${file.lastModified}`;
  const b64 = (s) => btoa(unescape(encodeURIComponent(s)));
  const tus = { "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrf() };
  let url = localStorage.getItem(key);
  let offset = 0;
  if (url) {
    const head = await fetch(url, { method: "HEAD", headers: tus }).catch(() => null);
    if (head && head.ok) offset = Number(head.headers.get("Upload-Offset") || 0);
    else url = null;
  }
  if (!url) {
    const meta = [`filename ${b64(file.name)}`, `folder_id ${b64(folderId)}`,
      `modified_at ${b64(new Date(file.lastModified).toISOString())}`];
    if (asPhoto) meta.push(`photo ${b64("true")}`);
    const created = await fetch("/api/v1/uploads", { method: "POST",
      headers: { ...tus, "Upload-Length": String(file.size), "Upload-Metadata": meta.join(",") } })
      .catch(() => { throw new ApiError(0, "network", "network"); });
    if (!created.ok) {
      const data = await created.json().catch(() => ({}));
      throw new ApiError(created.status, data?.error?.code || "internal", data?.error?.message || "", data?.error?.field);
    }
    url = created.headers.get("Location");
    localStorage.setItem(key, url);
  }
  const CHUNK = 4 * 1024 * 1024;
  while (offset < file.size) {
    const piece = file.slice(offset, offset + CHUNK);
    const res = await fetch(url, { method: "PATCH", body: piece,
      headers: { ...tus, "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" } })
      .catch(() => { throw new ApiError(0, "network", "network"); });
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      throw new ApiError(res.status, data?.error?.code || "internal", data?.error?.message || "", data?.error?.field);
    }
    offset = Number(res.headers.get("Upload-Offset"));
    onProgress(offset / file.size);
  }
  localStorage.removeItem(key);
}

// ---------- state, the socket, routing ----------

/** `limits`: the server's rules (GET /limits): lengths, sizes, page sizes and typing timings come
 * from there, not from literals here (the socket's own keep-alive and reconnect delays stay here). */
const state = { me: null, limits: null, unread: 0, socket: null, listeners: new Set(), view: null };

/** Listens to the socket while the page it was registered on is still the one shown. */
function on(listener) {
  const path = location.pathname;
  const guarded = (frame) => location.pathname === path && listener(frame);
  state.listeners.add(guarded);
  return () => state.listeners.delete(guarded);
}

function connectSocket() {
  if (state.socket) return;
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/api/v1/ws`);
  state.socket = ws;
  let ping;
  ws.onopen = () => {
    ping = setInterval(() => ws.readyState === 1 && ws.send('{"type":"ping"}'), 20000);
    // What happened while the socket was down (a phone asleep, a network change) is fetched again.
    if (state.connectedBefore) {
      refreshUnread();
      for (const l of state.listeners) l({ type: "resync", data: {} });
    }
    state.connectedBefore = true;
  };
  ws.onmessage = (e) => {
    let frame;
    try { frame = JSON.parse(e.data); } catch { return; }
    if (frame.type === "message.created" && frame.data.sender_id !== state.me?.id) refreshUnread();
    if (frame.type === "read.updated") refreshUnread();
    for (const l of state.listeners) l(frame);
  };
  ws.onclose = (e) => {
    clearInterval(ping);
    state.socket = null;
    // 4401 (taina_core::socket::CLOSE_SESSION_ENDED): the session ended; sign in again.
    if (e.code === 4401) { state.me = null; go("/login"); return; }
    if (state.me) setTimeout(connectSocket, e.code === 4403 ? 0 : 2000);
  };
}

function send(frame) {
  if (state.socket?.readyState === 1) state.socket.send(JSON.stringify(frame));
}

async function refreshUnread() {
  try {
    const list = await api("GET", "/conversations");
    state.unread = list.items.reduce((n, c) => n + (c.unread_count || 0), 0);
    for (const b of document.querySelectorAll("[data-unread]")) {
      b.textContent = state.unread;
      b.hidden = state.unread === 0;
    }
  } catch { /* shown on the next screen */ }
}

function go(path) {
  history.pushState(null, "", path);
  route();
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-nav]");
  if (a && !e.ctrlKey && !e.metaKey) { e.preventDefault(); go(a.getAttribute("href")); }
});
window.addEventListener("popstate", () => route());

const ROUTES = [
  [/^\/setup$/, () => setupScreen(), false],
  [/^\/login$/, () => loginScreen(), false],
  [/^\/register$/, () => registerScreen(), false],
  [/^\/$/, () => homeScreen(), true],
  [/^\/files\/trash$/, () => trashScreen(), true],
  [/^\/files\/shared$/, () => sharedScreen(), true],
  [/^\/files(?:\/([\w-]+|community))?$/, (m) => filesScreen(m[1] || "root"), true],
  [/^\/photos\/albums$/, () => albumsScreen(), true],
  [/^\/photos\/albums\/([\w-]+)$/, (m) => albumScreen(m[1]), true],
  [/^\/photos$/, () => photosScreen(), true],
  [/^\/messages(?:\/([\w-]+))?$/, (m) => messagesScreen(m[1]), true],
  [/^\/settings$/, () => settingsScreen(), true],
  [/^\/connect\/([\w-]{20,64})$/, (m) => connectScreen(m[1]), true],
];

/** Renders the current path; renders run one after another, so a slow one never overwrites a
 *  newer screen. */
function route() {
  state.routing = (state.routing || Promise.resolve()).then(render, render);
  return state.routing;
}

async function render() {
  state.listeners.clear();
  const path = location.pathname;
  const found = ROUTES.find(([re]) => re.test(path));
  if (!found) { history.replaceState(null, "", "/"); return render(); }
  const [re, screen, needsSession] = found;
  if (!state.limits) {
    try { state.limits = await api("GET", "/limits"); } catch (e) { return showError(e); }
  }
  // An id of another length names nothing: back home, as for an unknown path.
  const ids = path.startsWith("/connect/") ? [] : path.match(re).slice(1).filter((x) => x && x !== "community");
  if (ids.some((id) => id.length !== state.limits.id_chars)) { history.replaceState(null, "", "/"); return render(); }
  if (needsSession && !state.me) {
    try {
      state.me = await api("GET", "/me");
    } catch (e) {
      if (e.code === "unauthenticated") {
        // After signing in, back to where the person was going (a device's sign-in link).
        if (path.startsWith("/connect/")) sessionStorage.setItem("taina.after", path);
        const setup = await api("GET", "/setup").catch(() => ({ needs_setup: false }));
        history.replaceState(null, "", setup.needs_setup ? "/setup" : "/login");
        return render();
      }
      return showError(e);
    }
    connectSocket();
    refreshUnread();
  }
  try {
    await screen(path.match(re));
  } catch (e) {
    if (e.code === "unauthenticated") {
      state.me = null;
      history.replaceState(null, "", "/login");
      return render();
    }
    showError(e);
  }
}

function showError(e) {
  toast(explain(e), "error");
}

/** The frame of every signed-in screen: a header, the services, a bottom bar on phones. */
function frame(title, section, ...content) {
  const link = (href, icon, text, extra) => h("a", { href, "data-nav": true,
    "aria-current": section === href.split("/")[1] ? "page" : null },
  h("span.icon", { "aria-hidden": "true" }, icon), h("span", {}, text), extra);
  const badge = () => h("span.badge", { "data-unread": true, hidden: state.unread === 0,
    "aria-label": "unread messages" }, String(state.unread));
  const links = () => [link("/files", "📁", "Files"), link("/photos", "🖼️", "Photos"),
    link("/messages", "💬", "Messages", badge()), link("/settings", "⚙️", "Settings")];
  const main = h("main", { id: "main", tabindex: "-1" }, ...content);
  app.replaceChildren(
    h("header.top", {}, h("a", { href: "/", "data-nav": true, "aria-label": "Home" }, "🌿"), h("h1", {}, title),
      h("nav.services", { "aria-label": "Services" }, ...links())),
    main,
    h("nav.bottom", { "aria-label": "Services" }, ...links()),
  );
  document.title = `${title} · Tainá`;
  return main;
}

function form(fields, submitText, onSubmit) {
  const error = h("p.error", { role: "alert", hidden: true });
  const button = h("button.primary", { type: "submit" }, submitText);
  const f = h("form.stack", {
    onsubmit: async (e) => {
      e.preventDefault();
      error.hidden = true;
      button.disabled = true;
      try {
        await onSubmit(Object.fromEntries(new FormData(f)));
      } catch (err) {
        error.textContent = explain(err);
        error.hidden = false;
        if (err.field && f.elements[err.field]) f.elements[err.field].focus();
      } finally {
        button.disabled = false;
      }
    },
  }, ...fields.map(([name, text, type = "text", extra = {}]) =>
    h("label", {}, text, h("input", { name, type, required: extra.optional ? null : true, ...extra }))),
  error, button);
  return f;
}

// ---------- accounts ----------

function authCard(title, ...content) {
  app.replaceChildren(h("main.auth", { id: "main" }, h("div.card", {}, h("h1", {}, title), ...content)));
  document.title = `${title} · Tainá`;
}

function signedIn(answer) {
  state.me = answer.user;
  connectSocket();
  const after = sessionStorage.getItem("taina.after");
  sessionStorage.removeItem("taina.after");
  go(after || "/");
}

function setupScreen() {
  authCard("Welcome to Tainá",
    h("p", {}, "Create your community and its first admin account."),
    form([["community_name", "Community name"], ["display_name", "Your name"],
      ["email", "Email", "email", { autocomplete: "email" }],
      ["password", `Password (at least ${state.limits.password_min_chars} characters)`, "password",
        { autocomplete: "new-password", minlength: state.limits.password_min_chars, maxlength: state.limits.password_max_chars }]],
    "Create community", async (v) => signedIn(await api("POST", "/setup", v))));
}

function loginScreen() {
  authCard("Sign in",
    form([["email", "Email", "email", { autocomplete: "username" }],
      ["password", "Password", "password", { autocomplete: "current-password" }]],
    "Sign in", async (v) => signedIn(await api("POST", "/auth/login", v))),
    h("p.muted", {}, "New here? Ask someone in your community for an invite link."));
}

function registerScreen() {
  const invite = new URLSearchParams(location.search).get("invite") || "";
  authCard("Join your community",
    invite ? null : h("p.error", {}, "This page needs the invite link you were sent."),
    form([["display_name", "Your name"], ["email", "Email", "email", { autocomplete: "email" }],
      ["password", `Password (at least ${state.limits.password_min_chars} characters)`, "password",
        { autocomplete: "new-password", minlength: state.limits.password_min_chars, maxlength: state.limits.password_max_chars }]],
    "Join", async (v) => signedIn(await api("POST", "/auth/register", { ...v, invite }))));
}

function homeScreen() {
  frame("Tainá", "",
    h("p", {}, `Hello, ${state.me.display_name}.`),
    h("div.home", {},
      h("a.card", { href: "/files", "data-nav": true }, h("strong", {}, "📁 Files"), "Your files and the community's"),
      h("a.card", { href: "/photos", "data-nav": true }, h("strong", {}, "🖼️ Photos"), "Your timeline and albums"),
      h("a.card", { href: "/messages", "data-nav": true }, h("strong", {}, "💬 Messages"),
        "Conversations ", h("span.badge", { "data-unread": true, hidden: state.unread === 0 }, String(state.unread)))));
}

// ---------- files ----------

const previewable = (item) => item.mime_type?.startsWith("image/") || item.mime_type === "application/pdf";

function thumb(item, size = "small") {
  if (item.kind === "folder") return h("span.thumb", { "aria-hidden": "true", style: "display:grid;place-items:center" }, "📁");
  if (item.has_previews) return h("img.thumb", { src: `/api/v1/files/${item.id}/thumbnail/${size}`, alt: "", loading: "lazy", width: 48, height: 48 });
  return h("span.thumb", { "aria-hidden": "true", style: "display:grid;place-items:center" }, "📄");
}

async function filesScreen(where) {
  const view = await api("GET", `/folders/${where}`);
  const gridMode = localStorage.getItem("files-view") === "grid";
  const progress = h("div.progress", { "aria-live": "polite" });
  const list = h("ul.items" + (gridMode ? ".grid" : ""), { "aria-label": "Files and folders" });
  const crumbs = h("nav.crumbs", { "aria-label": "Breadcrumbs" }, h("ol", {},
    h("li", {}, h("a", { href: "/files", "data-nav": true }, "My files")),
    h("li", {}, h("a", { href: "/files/community", "data-nav": true }, "Community")),
    h("li", {}, h("a", { href: "/files/shared", "data-nav": true }, "Shared with me")),
    ...view.breadcrumbs.map((b) => h("li", {}, h("a", { href: `/files/${b.id}`, "data-nav": true }, b.name)))));
  const picker = h("input", { type: "file", multiple: true, hidden: true, "aria-label": "Choose files to upload",
    onchange: () => { uploadAll([...picker.files]); picker.value = ""; } });
  const zone = h("div.dropzone", {
    ondragover: (e) => { e.preventDefault(); zone.classList.add("over"); },
    ondragleave: () => zone.classList.remove("over"),
    ondrop: (e) => { e.preventDefault(); zone.classList.remove("over"); uploadAll([...e.dataTransfer.files]); },
  }, "Drop files here to upload");

  async function uploadAll(files) {
    await Promise.all(files.map(uploadOne));
    await refresh();
  }
  async function uploadOne(file) {
    const bar = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
    const line = h("div", {}, h("div.row", {}, h("span", {}, file.name), h("span.spacer"), h("span.muted", {}, bytes(file.size))), bar);
    progress.append(line);
    try {
      if (file.size > state.limits.resumable_threshold_bytes) {
        await tusUpload(file, view.id, (p) => { bar.value = p; });
      } else {
        const f = new FormData();
        f.append("folder_id", view.id);
        f.append("file", file, file.name);
        await uploadWithProgress("/files", f, (p) => { bar.value = p; });
      }
      bar.value = 1;
      line.remove();
      toast(`${file.name} uploaded`);
    } catch (e) {
      line.querySelector(".row").append(h("span.error", {}, explain(e)),
        h("button", { type: "button", onclick: () => { line.remove(); uploadOne(file).then(refresh); } }, "Retry"));
    }
  }

  async function refresh() {
    const items = [];
    let cursor = null;
    do {
      const page = await api("GET", `/folders/${where}?limit=${state.limits.pages.folder.max}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    list.replaceChildren(...items.map(row));
    if (!items.length) list.append(h("li.muted", {}, "Nothing here yet."));
  }

  function row(item) {
    const open = item.kind === "folder"
      ? h("a.name", { href: `/files/${item.id}`, "data-nav": true }, item.name)
      : h("button.link.name", { type: "button", onclick: () => preview(item) }, item.name);
    return h("li", { dataset: { id: item.id } }, thumb(item), open,
      item.kind === "file" ? h("span.muted", {}, bytes(item.size_bytes)) : null,
      h("span.actions", {},
      item.kind === "file" ? h("a.button", { href: `/api/v1/files/${item.id}/content?download=true`, "aria-label": `Download ${item.name}` }, "⬇") : null,
      h("button", { type: "button", "aria-label": `Rename ${item.name}`, onclick: () => rename(item) }, "✏️"),
      h("button", { type: "button", "aria-label": `Move ${item.name}`, onclick: () => move(item) }, "↪"),
      h("button", { type: "button", "aria-label": `Share ${item.name}`, onclick: () => share(item) }, "👥"),
      h("button.danger", { type: "button", "aria-label": `Delete ${item.name}`, onclick: () => remove(item) }, "🗑")));
  }

  async function rename(item) {
    const name = prompt(`New name for ${item.name}`, item.name);
    if (!name || name === item.name) return;
    try { await api("PATCH", `/${item.kind}s/${item.id}`, { name }); await refresh(); } catch (e) { showError(e); }
  }
  async function move(item) {
    const folders = view.items.filter((i) => i.kind === "folder" && i.id !== item.id);
    const dialog = h("dialog", { "aria-label": `Move ${item.name}` });
    const choice = h("select", { name: "to", "aria-label": "Destination" },
      h("option", { value: "root" }, "My files"), h("option", { value: "community" }, "Community"),
      ...folders.map((f) => h("option", { value: f.id }, `${view.name} › ${f.name}`)));
    dialog.append(h("form.viewer", { method: "dialog", onsubmit: async (e) => {
      e.preventDefault();
      try { await api("PATCH", `/${item.kind}s/${item.id}`, { parent_id: choice.value }); dialog.close(); await refresh(); }
      catch (err) { showError(err); }
    } }, h("h2", {}, `Move ${item.name}`), choice,
    h("div.row", {}, h("button.primary", { type: "submit" }, "Move"), h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"))));
    document.body.append(dialog);
    dialog.addEventListener("close", () => dialog.remove());
    dialog.showModal();
  }
  async function share(item) {
    const [members, shares] = await Promise.all([api("GET", "/community/members"), api("GET", `/shares?item_id=${item.id}`)]);
    const dialog = h("dialog", { "aria-label": `Share ${item.name}` });
    const who = h("select", { name: "user_id", "aria-label": "Person" },
      ...members.items.filter((m) => m.id !== state.me.id).map((m) => h("option", { value: m.id }, m.display_name)));
    const access = h("select", { name: "access", "aria-label": "Access" }, h("option", { value: "read" }, "Can view"), h("option", { value: "write" }, "Can edit"));
    const name = (id) => members.items.find((m) => m.id === id)?.display_name || id;
    dialog.append(h("form.viewer", { onsubmit: async (e) => {
      e.preventDefault();
      try { await api("POST", "/shares", { item_id: item.id, user_id: who.value, access: access.value }); toast("Shared"); dialog.close(); }
      catch (err) { showError(err); }
    } }, h("h2", {}, `Share ${item.name}`),
    h("ul", {}, ...shares.items.map((s) => h("li", {}, `${name(s.user_id)} (${s.access}) `,
      h("button.link", { type: "button", onclick: async () => { await api("DELETE", `/shares/${s.id}`); dialog.close(); } }, "Stop sharing")))),
    who, access, h("div.row", {}, h("button.primary", { type: "submit" }, "Share"), h("button", { type: "button", onclick: () => dialog.close() }, "Close"))));
    document.body.append(dialog);
    dialog.addEventListener("close", () => dialog.remove());
    dialog.showModal();
  }
  async function remove(item) {
    try {
      await api("DELETE", `/${item.kind}s/${item.id}`);
      toast(`${item.name} moved to the trash`);
      await refresh();
    } catch (e) { showError(e); }
  }

  const toggle = h("button", { type: "button", "aria-pressed": String(gridMode), onclick: () => {
    const grid = list.classList.toggle("grid");
    toggle.setAttribute("aria-pressed", String(grid));
    localStorage.setItem("files-view", grid ? "grid" : "list");
  } }, "▦ Grid");
  const main = frame(view.name, "files", crumbs,
    h("div.toolbar", {},
      h("button.primary", { type: "button", onclick: () => picker.click() }, "⬆ Upload"), picker,
      h("button", { type: "button", onclick: async () => {
        const name = prompt("Folder name");
        if (!name) return;
        try { await api("POST", "/folders", { name, parent_id: view.id }); await refresh(); } catch (e) { showError(e); }
      } }, "＋ New folder"),
      toggle,
      h("a.button", { href: "/files/trash", "data-nav": true }, "🗑 Trash")),
    zone, progress, list);
  main.dataset.folder = view.id;
  await refresh();
  on((frame) => {
    if (frame.type.startsWith("file.") || frame.type.startsWith("folder.") || frame.type === "photo.processed" || frame.type === "resync") refresh();
  });
}

function preview(item) {
  const dialog = h("dialog", { "aria-label": `Preview of ${item.name}` });
  const body = item.mime_type?.startsWith("image/")
    ? h("img", { src: `/api/v1/files/${item.id}/content`, alt: item.name })
    : item.mime_type === "application/pdf" && item.has_previews
      ? h("img", { src: `/api/v1/files/${item.id}/thumbnail/large`, alt: `First page of ${item.name}` })
      : h("p", {}, "No preview for this kind of file.");
  dialog.append(h("div.viewer", {}, h("h2", {}, item.name), body,
    h("p.muted", {}, `${bytes(item.size_bytes)} · ${item.mime_type || ""} · ${when(item.updated_at)}`),
    h("div.row", {}, h("a.button.primary", { href: `/api/v1/files/${item.id}/content?download=true` }, "Download"),
      item.mime_type === "application/pdf" ? h("a.button", { href: `/api/v1/files/${item.id}/content`, target: "_blank", rel: "noopener" }, "Open") : null,
      h("button", { type: "button", onclick: () => dialog.close() }, "Close"))));
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
}

async function sharedScreen() {
  const shared = await api("GET", "/shares");
  const list = h("ul.items", { "aria-label": "Shared with me" }, ...shared.items.map((item) => h("li", {}, thumb(item),
    item.kind === "folder"
      ? h("a.name", { href: `/files/${item.id}`, "data-nav": true }, item.name)
      : h("button.link.name", { type: "button", onclick: () => preview(item) }, item.name),
    item.kind === "file" ? h("a.button", { href: `/api/v1/files/${item.id}/content?download=true`, "aria-label": `Download ${item.name}` }, "⬇") : null)));
  if (!shared.items.length) list.append(h("li.muted", {}, "Nothing is shared with you yet."));
  frame("Shared with me", "files", h("p", {}, h("a", { href: "/files", "data-nav": true }, "‹ Back to my files")), list);
}

async function trashScreen() {
  const list = h("ul.items", { "aria-label": "Trash" });
  async function refresh() {
    const trash = await api("GET", "/trash");
    list.replaceChildren(...trash.items.map((item) => h("li", { dataset: { id: item.id } }, thumb(item),
      h("span.name", {}, item.name), h("span.muted", {}, when(item.deleted_at)),
      h("button", { type: "button", onclick: async () => {
        try { await api("POST", `/trash/${item.id}/restore`); toast(`${item.name} restored`); await refresh(); } catch (e) { showError(e); }
      } }, "Restore"),
      h("button.danger", { type: "button", onclick: async () => {
        if (!confirm(`Delete ${item.name} for good?`)) return;
        try { await api("DELETE", `/trash/${item.id}`); await refresh(); } catch (e) { showError(e); }
      } }, "Delete forever"))));
    if (!trash.items.length) list.append(h("li.muted", {}, "The trash is empty."));
  }
  frame("Trash", "files", h("p", {}, h("a", { href: "/files", "data-nav": true }, "‹ Back to my files")), list);
  await refresh();
}

// ---------- photos ----------

function heading(group) {
  const h = group.heading;
  if (h.kind === "today") return "Today";
  if (h.kind === "yesterday") return "Yesterday";
  if (h.kind === "this_week") return "This week";
  if (h.kind === "month") return new Date(h.year, h.month - 1, 1).toLocaleString(undefined, { month: "long", year: "numeric" });
  return String(h.year);
}

function photoTile(photo, onOpen) {
  const inner = photo.processed && !photo.processing_error
    ? h("img", { src: `/api/v1/files/${photo.file_id}/thumbnail/small`, alt: photo.name, loading: "lazy", width: 200, height: 200 })
    : h("span.pending", {}, photo.processing_error ? "no preview" : "processing…");
  return h("button", { type: "button", "aria-label": `Open ${photo.name}`, dataset: { photo: photo.id }, onclick: () => onOpen(photo) }, inner);
}

async function photosScreen() {
  const offset = -new Date().getTimezoneOffset();
  const timeline = h("div.timeline");
  const sentinel = h("div", { "aria-hidden": "true", style: "height:1px" });
  const photos = [];
  let cursor = null, done = false, loading = false, lastHeading = null, grid = null;
  const picker = h("input", { type: "file", accept: "image/*,video/*", multiple: true, hidden: true, "aria-label": "Choose photos",
    onchange: () => { uploadPhotos([...picker.files]); picker.value = ""; } });
  const progress = h("div.progress", { "aria-live": "polite" });

  async function more() {
    if (loading || done) return;
    loading = true;
    try {
      const page = await api("GET", `/photos?utc_offset=${offset}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      page.groups.forEach((g) => {
        const text = heading(g);
        if (text !== lastHeading) {
          timeline.append(h("h2", {}, text));
          grid = h("div.photos");
          timeline.append(grid);
          lastHeading = text;
        }
        page.items.slice(g.start, g.start + g.count).forEach((p) => { photos.push(p); grid.append(photoTile(p, open)); });
      });
      if (!photos.length) timeline.replaceChildren(h("p.muted", {}, "No photos yet. Upload some!"));
      cursor = page.next_cursor;
      done = !cursor;
    } finally { loading = false; }
  }
  function open(photo) { viewer(photos, photos.findIndex((p) => p.id === photo.id)); }

  async function uploadPhotos(files) {
    for (const file of files) {
      const bar = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
      const line = h("div", {}, h("span", {}, file.name), bar);
      progress.append(line);
      try {
        if (file.size > state.limits.resumable_threshold_bytes) await tusUpload(file, "root", (p) => { bar.value = p; }, true);
        else {
          const f = new FormData();
          f.append("modified_at", new Date(file.lastModified).toISOString());
          f.append("file", file, file.name);
          await uploadWithProgress("/photos", f, (p) => { bar.value = p; });
        }
        line.remove();
      } catch (e) {
        line.append(h("span.error", {}, explain(e)), h("button", { type: "button", onclick: () => { line.remove(); uploadPhotos([file]); } }, "Retry"));
      }
    }
    photos.length = 0; cursor = null; done = false; lastHeading = null; timeline.replaceChildren();
    await more();
  }

  frame("Photos", "photos",
    h("div.toolbar", {}, h("button.primary", { type: "button", onclick: () => picker.click() }, "⬆ Upload photos"), picker,
      h("a.button", { href: "/photos/albums", "data-nav": true }, "📚 Albums")),
    progress, timeline, sentinel);
  await more();
  new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && more()).observe(sentinel);
  on((frame) => {
    if (frame.type !== "photo.processed") return;
    const tile = document.querySelector(`[data-photo="${frame.data.photo_id}"]`);
    const photo = photos.find((p) => p.id === frame.data.photo_id);
    if (tile && photo) {
      // The event says it is processed; whether that made thumbnails, the photo itself says.
      api("GET", `/photos/${photo.id}`).then((fresh) => { Object.assign(photo, fresh); tile.replaceWith(photoTile(photo, open)); }).catch(() => {});
    }
  });
}

function viewer(list, index) {
  const dialog = h("dialog", { "aria-label": "Photo viewer" });
  const body = h("div.viewer");
  dialog.append(body);
  let startX = null;
  async function show(i) {
    index = Math.max(0, Math.min(list.length - 1, i));
    const p = list[index];
    const meta = h("dl", {},
      h("dt", {}, "Taken"), h("dd", {}, p.taken_at ? new Date(p.taken_at).toLocaleString() : "unknown"),
      h("dt", {}, "Camera"), h("dd", {}, [p.camera?.make, p.camera?.model].filter(Boolean).join(" ") || "unknown"),
      h("dt", {}, "Place"), h("dd", {}, p.location ? `${p.location.latitude.toFixed(5)}, ${p.location.longitude.toFixed(5)}` : "unknown"),
      h("dt", {}, "Size"), h("dd", {}, p.width ? `${p.width} × ${p.height}` : ""));
    const picture = p.kind === "video"
      ? h("video", { src: `/api/v1/files/${p.file_id}/content`, controls: true, style: "max-width:100%" })
      : h("img", { src: p.processed && !p.processing_error ? `/api/v1/files/${p.file_id}/thumbnail/large` : `/api/v1/files/${p.file_id}/content`, alt: p.name });
    body.replaceChildren(h("div.row", {}, h("h2", {}, p.name), h("span.spacer"), h("span.muted", {}, `${index + 1} / ${list.length}`)),
      picture, meta,
      h("div.row", {},
        h("button", { type: "button", onclick: () => show(index - 1), disabled: index === 0, "aria-label": "Previous photo" }, "‹ Previous"),
        h("button", { type: "button", onclick: () => show(index + 1), disabled: index === list.length - 1, "aria-label": "Next photo" }, "Next ›"),
        h("button", { type: "button", onclick: () => addToAlbum(p) }, "Add to album"),
        h("button", { type: "button", onclick: () => dialog.close() }, "Close")));
  }
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") show(index - 1);
    if (e.key === "ArrowRight") show(index + 1);
  });
  dialog.addEventListener("pointerdown", (e) => { startX = e.clientX; });
  dialog.addEventListener("pointerup", (e) => {
    if (startX === null) return;
    const dx = e.clientX - startX;
    if (Math.abs(dx) > 60) show(index + (dx < 0 ? 1 : -1));
    startX = null;
  });
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
  show(index);
}

async function addToAlbum(photo) {
  const albums = await api("GET", "/albums");
  const name = prompt(`Add to which album? (${albums.items.map((a) => a.name).join(", ") || "none yet"}) — a new name makes a new album`);
  if (!name) return;
  try {
    let album = albums.items.find((a) => a.name.toLowerCase() === name.toLowerCase());
    if (!album) album = await api("POST", "/albums", { name });
    await api("POST", `/albums/${album.id}/photos`, { photo_ids: [photo.id] });
    toast(`Added to ${album.name}`);
  } catch (e) { showError(e); }
}

async function albumsScreen() {
  const list = h("ul.items.grid", { "aria-label": "Albums" });
  async function refresh() {
    const albums = await api("GET", "/albums");
    list.replaceChildren(...albums.items.map((a) => h("li", {},
      a.cover_photo_id ? h("span.thumb", { "aria-hidden": "true" }, "🖼️") : h("span.thumb", { "aria-hidden": "true" }, "📚"),
      h("a", { href: `/photos/albums/${a.id}`, "data-nav": true }, a.name), h("span.muted", {}, `${a.photo_count} photos`))));
    if (!albums.items.length) list.append(h("li.muted", {}, "No albums yet."));
  }
  frame("Albums", "photos", h("p", {}, h("a", { href: "/photos", "data-nav": true }, "‹ Timeline")),
    form([["name", "New album"]], "Create album", async (v) => { await api("POST", "/albums", { name: v.name }); await refresh(); }),
    list);
  await refresh();
}

async function albumScreen(id) {
  const album = await api("GET", `/albums/${id}`);
  const grid = h("div.photos", { "aria-label": "Photos in the album (drag to reorder)" });
  let dragged = null;
  function render(list) {
    grid.replaceChildren(...list.map((p) => {
      const tile = photoTile(p, () => viewer(list, list.indexOf(p)));
      tile.draggable = true;
      tile.addEventListener("dragstart", () => { dragged = p; });
      tile.addEventListener("dragover", (e) => e.preventDefault());
      tile.addEventListener("drop", async (e) => {
        e.preventDefault();
        if (!dragged || dragged === p) return;
        const order = list.filter((x) => x !== dragged);
        order.splice(order.indexOf(p), 0, dragged);
        try { await api("PUT", `/albums/${id}/order`, { photo_ids: order.map((x) => x.id) }); render(order); }
        catch (err) { showError(err); }
      });
      const cover = h("button.link", { type: "button", onclick: async () => {
        await api("PATCH", `/albums/${id}`, { cover_photo_id: p.id }); toast("Cover set");
      } }, album.cover_photo_id === p.id ? "★ cover" : "☆ make cover");
      return h("div", {}, tile, cover);
    }));
  }
  frame(album.name, "photos", h("p", {}, h("a", { href: "/photos/albums", "data-nav": true }, "‹ Albums")),
    h("p.muted", {}, `${album.photo_count} photos · ${album.visibility}`), grid);
  render(album.photos);
}

// ---------- messages ----------

async function messagesScreen(id) {
  const [list, members] = await Promise.all([api("GET", "/conversations"), api("GET", "/community/members")]);
  const names = Object.fromEntries(members.items.map((m) => [m.id, m.display_name]));
  const title = (c) => c.name || c.participants.filter((p) => p.user_id !== state.me.id).map((p) => names[p.user_id] || "someone").join(", ");
  const conversationItems = (items) => items.map((s) => {
    const other = s.conversation.participants.find((p) => p.user_id !== state.me.id);
    return h("li", {}, h("a", { href: `/messages/${s.conversation.id}`, "data-nav": true,
      "aria-current": s.conversation.id === id ? "page" : null },
    h("span.presence", { dataset: { user: other?.user_id || "" }, "aria-hidden": "true" }),
    h("span", { style: "flex:1" }, h("strong", {}, title(s.conversation)),
      h("span.last", {}, s.last_message ? (s.last_message.text || s.last_message.attachment?.name || "") : "No messages yet")),
    s.unread_count && s.conversation.id !== id ? h("span.badge", { "aria-label": `${s.unread_count} unread` }, String(s.unread_count)) : null));
  });
  const conversations = h("ul.conversations", { "aria-label": "Conversations" }, ...conversationItems(list.items));
  async function refreshSide() {
    try { conversations.replaceChildren(...conversationItems((await api("GET", "/conversations")).items)); } catch { /* next time */ }
  }
  const start = h("button", { type: "button", onclick: () => startConversation(members.items) }, "＋ New conversation");
  const side = h("div", {}, h("div.toolbar", {}, start), conversations);
  if (!id) {
    frame("Messages", "messages", h("div.chat", {}, side, h("p.muted", {}, list.items.length ? "Pick a conversation." : "No conversations yet: start one.")));
    on((f) => { if (["message.created", "conversation.updated", "resync"].includes(f.type)) route(); });
    return;
  }
  const current = list.items.find((s) => s.conversation.id === id)?.conversation || (await api("GET", `/conversations/${id}`));
  const box = h("div.messages", { "aria-label": "Messages", role: "log" });
  const typing = h("div.typing", { "aria-live": "polite" });
  const shown = new Map();
  let oldest = null, replyTo = null;
  const older = h("button.link", { type: "button", onclick: () => load(oldest) }, "Load older messages");

  function bubble(m) {
    const mine = m.sender_id === state.me.id;
    const el = h("div.message" + (mine ? ".mine" : "") + (m.deleted_at ? ".deleted" : ""), { dataset: { seq: m.seq, id: m.id } });
    const att = m.attachment && !m.deleted_at ? attachment(m) : null;
    const reply = m.reply_to && shown.get(m.reply_to) ? h("div.reply", {}, shown.get(m.reply_to).text.slice(0, 80)) : null;
    el.append(...[
      h("div.meta", {}, h("strong", {}, m.system ? "Tainá" : names[m.sender_id] || "someone"), h("span", {}, when(m.created_at)), m.edited_at ? h("span", {}, "(edited)") : null),
      reply, att,
      h("div.text", {}, m.deleted_at ? "This message was deleted." : m.system ? systemText(m.system) : m.text),
      h("div.reactions", {}, ...m.reactions.map((r) => h("span.chip", { title: r.user_ids.map((u) => names[u]).join(", ") }, `${r.emoji} ${r.user_ids.length}`))),
      m.deleted_at || m.system ? null : h("div.row", {},
        ...["👍", "❤️", "😂"].map((e) => h("button.link", { type: "button", "aria-label": `React ${e}`, onclick: () => react(m, e) }, e)),
        h("button.link", { type: "button", onclick: () => { replyTo = m; composerNote.textContent = `Replying to: ${m.text.slice(0, 60)}`; text.focus(); } }, "Reply"),
        m.viewer?.can_edit ? h("button.link", { type: "button", onclick: () => edit(m) }, "Edit") : null,
        m.viewer?.can_delete ? h("button.link", { type: "button", onclick: () => del(m) }, "Delete") : null),
    ].filter(Boolean));
    return el;
  }
  function systemText(s) { return typeof s === "string" ? s : (s.kind || JSON.stringify(s)).replaceAll("_", " "); }
  function attachment(m) {
    const url = `/api/v1/messages/${m.id}/attachment`;
    const a = m.attachment;
    if (a.kind === "image") return h("img", { src: url, alt: a.name, loading: "lazy" });
    if (a.kind === "video") return h("video", { src: url, controls: true });
    if (a.kind === "audio") return h("audio", { src: url, controls: true });
    return h("a.chip", { href: `${url}?download=true` }, `📎 ${a.name} (${bytes(a.size_bytes)})`);
  }
  function put(m) {
    shown.set(m.id, m);
    const existing = box.querySelector(`[data-id="${m.id}"]`);
    const el = bubble(m);
    if (existing) { existing.replaceWith(el); return; }
    const after = [...box.querySelectorAll(".message")].find((x) => Number(x.dataset.seq) > m.seq);
    if (after) box.insertBefore(el, after); else box.append(el);
  }
  async function load(before) {
    const page = await api("GET", `/conversations/${id}/messages${before ? `?cursor=${before}` : ""}`);
    const atBottom = !before;
    page.items.forEach(put);
    if (page.items.length) oldest = page.items[0].seq;
    older.hidden = !page.next_cursor;
    if (atBottom) box.scrollTop = box.scrollHeight;
    markRead();
  }
  async function markRead() {
    const last = [...shown.values()].reduce((n, m) => Math.max(n, m.seq), 0);
    if (last) await api("POST", `/conversations/${id}/read`, { seq: last }).catch(() => {});
    refreshUnread();
  }
  async function react(m, emoji) {
    const mineAlready = m.reactions.find((r) => r.emoji === emoji)?.user_ids.includes(state.me.id);
    try {
      if (mineAlready) await api("DELETE", `/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`);
      else await api("POST", `/messages/${m.id}/reactions`, { emoji });
      put(await refetch(m));
    } catch (e) { showError(e); }
  }
  async function refetch(m) {
    const page = await api("GET", `/conversations/${id}/messages?after=${m.seq - 1}&limit=1`);
    return page.items[0] || m;
  }
  async function edit(m) {
    const content = prompt("Edit your message", m.text);
    if (content === null || content === m.text) return;
    try { put(await api("PATCH", `/messages/${m.id}`, { content })); } catch (e) { showError(e); }
  }
  async function del(m) {
    if (!confirm("Delete this message?")) return;
    try { await api("DELETE", `/messages/${m.id}`); put(await refetch(m)); } catch (e) { showError(e); }
  }

  const text = h("textarea", { name: "content", rows: 1, "aria-label": "Message", placeholder: "Write a message" });
  const file = h("input", { type: "file", hidden: true, "aria-label": "Attach a file" });
  const chip = h("span.chip", { hidden: true });
  const composerNote = h("div.muted", { "aria-live": "polite" });
  let typingSent = 0, stopTimer = null;
  const pending = { clientId: null, fileId: null };
  file.addEventListener("change", () => { pending.fileId = null; });
  text.addEventListener("input", () => {
    const now = Date.now();
    if (now - typingSent > state.limits.typing_refresh_ms) { send({ type: "typing", conversation_id: id, typing: true }); typingSent = now; }
    clearTimeout(stopTimer);
    stopTimer = setTimeout(() => { send({ type: "typing", conversation_id: id, typing: false }); typingSent = 0; }, state.limits.typing_stop_after_ms);
  });
  text.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); composer.requestSubmit(); } });
  file.addEventListener("change", () => { chip.hidden = !file.files.length; chip.textContent = file.files[0] ? `📎 ${file.files[0].name}` : ""; });
  const composer = h("form.composer", { onsubmit: async (e) => {
    e.preventDefault();
    const content = text.value.trim();
    if (!content && !file.files.length) return;
    // Kept until the send succeeds: a retry after a lost answer is the same message, and the
    // attachment is not uploaded twice.
    pending.clientId ||= randomId();
    try {
      if (file.files.length && !pending.fileId) {
        const f = new FormData();
        f.append("file", file.files[0], file.files[0].name);
        pending.fileId = (await uploadWithProgress("/files", f, () => {})).id;
      }
      const m = await api("POST", `/conversations/${id}/messages`, { content, file_id: pending.fileId, reply_to: replyTo?.id || null, client_id: pending.clientId });
      pending.clientId = null; pending.fileId = null;
      put(m);
      refreshSide();
      text.value = ""; file.value = ""; chip.hidden = true; replyTo = null; composerNote.textContent = "";
      clearTimeout(stopTimer); typingSent = 0;
      box.scrollTop = box.scrollHeight;
    } catch (err) {
      // What was typed and picked stays, so sending again loses nothing.
      composerNote.textContent = explain(err);
    }
  } }, h("button", { type: "button", "aria-label": "Attach a file", onclick: () => file.click() }, "📎"), file, text, chip,
  h("button.primary", { type: "submit" }, "Send"));

  frame(title(current), "messages", h("div.chat", {}, side,
    h("section.thread", { "aria-label": title(current) }, h("h2", {}, title(current)), older, box, typing, composerNote, composer)));
  await load(null);
  const typers = new Map();
  function showTyping() {
    const who = [...typers.keys()].map((u) => names[u] || "someone");
    typing.textContent = who.length ? `${who.join(", ")} ${who.length > 1 ? "are" : "is"} typing…` : "";
  }
  on((f) => {
    const d = f.data || {};
    if (f.type === "message.created" || f.type === "conversation.updated") refreshSide();
    if ((f.type === "message.created" || f.type === "message.updated") && d.conversation_id === id) {
      put(d);
      typers.delete(d.sender_id); showTyping();
      box.scrollTop = box.scrollHeight;
      if (document.visibilityState === "visible") markRead();
    } else if ((f.type === "message.deleted" || f.type.startsWith("reaction.")) && d.conversation_id === id) {
      const m = shown.get(d.message_id);
      if (m) refetch(m).then(put);
    } else if (f.type === "typing" && d.conversation_id === id && d.user_id !== state.me.id) {
      if (d.active) typers.set(d.user_id, true); else typers.delete(d.user_id);
      showTyping();
    } else if (f.type === "presence") {
      for (const dot of document.querySelectorAll(`.presence[data-user="${d.user_id}"]`)) dot.className = `presence ${d.status}`;
    } else if (f.type === "resync") {
      load(null);
    }
  });
}

function startConversation(members) {
  const dialog = h("dialog", { "aria-label": "New conversation" });
  const others = members.filter((m) => m.id !== state.me.id);
  const boxes = others.map((m) => h("label", { style: "display:flex;gap:.5rem;font-weight:400" },
    h("input", { type: "checkbox", value: m.id, style: "min-height:0" }), m.display_name));
  const name = h("input", { name: "name", placeholder: "Group name (for three or more)", "aria-label": "Group name" });
  dialog.append(h("form.viewer", { onsubmit: async (e) => {
    e.preventDefault();
    const ids = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    if (!ids.length) return toast("Pick someone to talk to", "error");
    try {
      const c = ids.length === 1 && !name.value
        ? await api("POST", `/conversations/direct/${ids[0]}`)
        : await api("POST", "/conversations", { type: "group", name: name.value || "Group", participant_ids: ids });
      dialog.close();
      go(`/messages/${c.id}`);
    } catch (err) { showError(err); }
  } }, h("h2", {}, "New conversation"), ...boxes, name,
  h("div.row", {}, h("button.primary", { type: "submit" }, "Start"), h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"))));
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
}

// ---------- settings ----------

async function settingsScreen() {
  const me = state.me;
  const sessions = h("table.list");
  async function loadSessions() {
    const list = await api("GET", "/me/sessions");
    sessions.replaceChildren(h("tr", {}, h("th", {}, "Device"), h("th", {}, "Last seen"), h("th", {}, "")),
      ...list.items.map((s) => h("tr", {}, h("td", {}, s.user_agent || "unknown", s.current ? " (this one)" : ""), h("td", {}, when(s.last_seen_at)),
        h("td", {}, s.current ? "" : h("button.danger", { type: "button", onclick: async () => { await api("DELETE", `/me/sessions/${s.id}`); loadSessions(); } }, "Sign out")))));
  }
  const main = frame("Settings", "settings", h("section.settings", {},
    h("div.card", {}, h("h2", {}, "Profile"), form([["display_name", "Your name", "text", { value: me.display_name }]], "Save",
      async (v) => { state.me = await api("PATCH", "/me", v); toast("Saved"); })),
    h("div.card", {}, h("h2", {}, "Password"), form([["current_password", "Current password", "password", { autocomplete: "current-password" }],
      ["new_password", "New password", "password",
        { autocomplete: "new-password", minlength: state.limits.password_min_chars, maxlength: state.limits.password_max_chars }]], "Change password",
    async (v) => { await api("POST", "/me/password", v); toast("Password changed; your other sessions were signed out"); loadSessions(); })),
    h("div.card", {}, h("h2", {}, "Sessions"), sessions),
    appPasswordsCard(),
    h("div.card", {}, h("button", { type: "button", onclick: async () => {
      await api("POST", "/auth/logout").catch(() => {});
      state.me = null; state.socket?.close(); go("/login");
    } }, "Sign out"))));
  await loadSessions();
  if (me.role === "admin") main.firstChild.append(...(await adminCards()));
}

/** A device's sign-in (Nextcloud's desktop and phone apps): let it in, or turn it away. */
async function connectScreen(token) {
  const done = (text) => frame("Connect a device", "settings", h("div.card", {}, h("p", { role: "status" }, text)));
  let flow;
  try {
    flow = await api("GET", `/login-flows/${token}`);
  } catch (e) {
    if (e.code === "not_found") return done("This sign-in link has expired or was already used. Start again from the device.");
    throw e;
  }
  const answer = async (allow) => {
    try {
      await api("POST", `/login-flows/${token}`, { allow });
      done(allow ? "Done: the device is signed in. You can close this page. Its app password is listed in Settings, where you can revoke it."
        : "The device was turned away.");
    } catch (e) { showError(e); }
  };
  frame("Connect a device", "settings", h("div.card", {},
    h("h2", {}, "Let this device reach your files?"),
    h("p", {}, "It asked to sign in as you: ", h("strong", {}, flow.client_name)),
    h("p.muted", {}, `It gets an app password for files only. Allow it only if you started this on your own device, before ${when(flow.expires_at)}.`),
    h("div.row", {},
      h("button.primary", { type: "button", onclick: () => answer(true) }, "Allow"),
      h("button", { type: "button", onclick: () => answer(false) }, "Turn away"))));
}

/** App passwords: one per device, for WebDAV and desktop sync; a new one is shown once. */
function appPasswordsCard() {
  const list = h("table.list");
  const shown = h("div", { "aria-live": "polite" });
  async function load() {
    const items = (await api("GET", "/me/app-passwords")).items;
    list.replaceChildren(h("tr", {}, h("th", {}, "Device"), h("th", {}, "Reaches"), h("th", {}, "Last used"), h("th", {}, "")),
      ...items.map((a) => h("tr", {}, h("td", {}, a.name), h("td", {}, a.scope === "files" ? "Files only" : "Everything"),
        h("td", {}, a.last_used_at ? when(a.last_used_at) : "never"),
        h("td", {}, h("button.danger", { type: "button", "aria-label": `Revoke ${a.name}`, onclick: async () => {
          try { await api("DELETE", `/me/app-passwords/${a.id}`); toast("Revoked"); load(); } catch (e) { showError(e); }
        } }, "Revoke")))));
  }
  load().catch(showError);
  return h("div.card", {}, h("h2", {}, "App passwords"),
    h("p", {}, "For Finder, Windows, phones, rclone and desktop sync: make one per device, and sign in there with your email and it. Your account password never works there."),
    h("p", {}, "WebDAV address: ", h("code", {}, `${location.origin}/dav/`)),
    form([["name", "Device name", "text", { maxlength: state.limits.app_password_name_max_chars, autocomplete: "off" }],
      ["files_only", "Files only", "checkbox", { optional: true }]], "Create app password",
    async (v) => {
      const made = await api("POST", "/me/app-passwords", { name: v.name, scope: v.files_only ? "files" : "everything" });
      shown.replaceChildren(h("p", {}, "Type this on the device now; it will not be shown again:"),
        h("input", { readonly: true, value: made.password, "aria-label": "New app password", style: "width:100%;font-family:monospace" }));
      load();
    }),
    shown, list);
}

async function adminCards() {
  const [storage, members, invites] = await Promise.all([api("GET", "/storage"), api("GET", "/community/members"), api("GET", "/community/invites")]);
  const pct = storage.quota_bytes ? storage.used_bytes / storage.quota_bytes : 0;
  const memberRows = members.items.map((m) => {
    const role = h("select", { "aria-label": `Role of ${m.display_name}`, onchange: async () => {
      try { await api("PATCH", `/community/members/${m.id}`, { role: role.value }); toast("Role changed"); } catch (e) { showError(e); role.value = m.role; }
    } }, ...["admin", "member", "guest"].map((r) => h("option", { value: r, selected: r === m.role }, r)));
    return h("tr", {}, h("td", {}, m.display_name), h("td", {}, m.email), h("td", {}, role),
      h("td", {}, h("button", { type: "button", onclick: async () => {
        try { await api("PATCH", `/community/members/${m.id}`, { disabled: !m.disabled_at }); settingsScreen(); } catch (e) { showError(e); }
      } }, m.disabled_at ? "Enable" : "Disable")));
  });
  const link = h("p", { "aria-live": "polite" });
  return [
    h("div.card", {}, h("h2", {}, "Storage"), h("meter", { min: 0, max: 1, value: pct, "aria-label": "Storage used" }),
      h("p", {}, `${bytes(storage.used_bytes)} of ${bytes(storage.quota_bytes)} used`)),
    h("div.card", {}, h("h2", {}, "Members"), h("table.list", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Email"), h("th", {}, "Role"), h("th", {}, "")), ...memberRows)),
    h("div.card", {}, h("h2", {}, "Invites"),
      h("ul", {}, ...invites.items.map((i) => h("li", {}, `${i.role}, ${i.uses}/${i.max_uses} used, until ${when(i.expires_at)} `,
        h("button.link", { type: "button", onclick: async () => { await api("DELETE", `/community/invites/${i.id}`); settingsScreen(); } }, "Revoke")))),
      h("button.primary", { type: "button", onclick: async () => {
        try {
          const invite = await api("POST", "/community/invites", { max_uses: 1 });
          link.replaceChildren("Send this link: ", h("input", { readonly: true, value: invite.url, "aria-label": "Invite link", style: "width:100%" }));
        } catch (e) { showError(e); }
      } }, "Create an invite link"), link),
  ];
}

// ---------- start ----------

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
route();
