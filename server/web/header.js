// Shared page header, and a tiny fetch helper that shows API errors as text.
document.body.insertAdjacentHTML("afterbegin", `<header>
  <a href="./"><b>strom</b></a><a href="./">Streams</a><a href="add.html">Add</a><a href="recordings.html">Recordings</a><a href="config.html">Config</a>
  <a href="log.html">Log</a><span class="msg" id="version"></span></header>`);
fetch("api").then((r) => r.json()).then((info) => {
  document.getElementById("version").textContent = `v${info.version}`;
}).catch(() => {});

export async function api(method, path, body) {
  const res = await fetch(path, { method, body });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try { message = JSON.parse(text).message || text; } catch { /* plain text */ }
    throw new Error(`${res.status}: ${message}`);
  }
  return text;
}
