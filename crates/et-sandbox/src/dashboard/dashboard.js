// The sandbox dashboard's only script. Buttons carry `data-post`, an
// admin route; it is sent as a same-origin JSON POST, which no cross-site
// form can send (admin routes refuse any other Content-Type; SECURITY.md).
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-post]");
  if (!button) return;
  const out = document.getElementById("result");
  button.disabled = true;
  try {
    const reply = await fetch(button.dataset.post, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    const text = await reply.text();
    out.className = reply.ok ? "ok" : "error";
    out.textContent = (reply.ok ? "Done: " : "Refused (" + reply.status + "): ")
      + (reply.ok ? button.textContent : text);
    if (reply.ok) setTimeout(() => location.reload(), 400);
  } catch (e) {
    out.className = "error";
    out.textContent = String(e);
  } finally {
    button.disabled = false;
  }
});
// Self-refresh, except while a payload is open for reading.
const every = Number(document.body.dataset.refresh || 0);
if (every > 0) {
  setInterval(() => {
    if (!document.querySelector("details[open]")) location.reload();
  }, every * 1000);
}
