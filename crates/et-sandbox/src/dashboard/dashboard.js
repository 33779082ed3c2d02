// The sandbox dashboard's only script. Buttons carry `data-post`, an
// admin route, and `data-body`, the JSON to send (else `{}`); forms with
// `data-post` send `data-body` with each `data-field` input put into its
// `fault`, or a `data-raw` textarea as it is. Every post is a same-origin
// JSON POST, which no cross-site form can send (admin routes refuse any
// other Content-Type; SECURITY.md).
"use strict";
async function post(route, body, button, label) {
  const out = document.getElementById("result");
  button.disabled = true;
  try {
    const reply = await fetch(route, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: body,
    });
    const text = await reply.text();
    out.className = reply.ok ? "ok" : "error";
    out.textContent = (reply.ok ? "Done: " : "Refused (" + reply.status + "): ")
      + (reply.ok ? label : text);
    if (reply.ok) setTimeout(() => location.reload(), 400);
  } catch (e) {
    out.className = "error";
    out.textContent = String(e);
  } finally {
    button.disabled = false;
  }
}
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-post]");
  if (button) post(button.dataset.post, button.dataset.body || "{}", button, button.textContent);
});
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-post]");
  if (!form) return;
  event.preventDefault();
  const raw = form.querySelector("textarea[data-raw]");
  let body = raw ? raw.value : form.dataset.body;
  if (!raw) {
    const rule = JSON.parse(body);
    for (const input of form.querySelectorAll("[data-field]")) {
      rule.fault[input.dataset.field] = input.type === "number" ? Number(input.value) : input.value;
    }
    body = JSON.stringify(rule);
  }
  post(form.dataset.post, body, form.querySelector("button"), form.textContent.trim());
});
// Self-refresh, except while a payload is open for reading or a field
// is being filled in.
const every = Number(document.body.dataset.refresh || 0);
if (every > 0) {
  setInterval(() => {
    const typing = document.activeElement && document.activeElement.matches("input, textarea, select");
    if (!document.querySelector("details[open]") && !typing) location.reload();
  }, every * 1000);
}
