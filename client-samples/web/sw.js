// The sample's service worker: shows a notification for each Web Push the server sends (SPEC §7) while the
// user has no terminal online, i.e. no tab of the page connected. The body is the push gateway's JSON for
// this user, encrypted by the server and decrypted by the browser: { kind, message | items, truncated? }.
self.addEventListener("push", (event) => {
  let body = {};
  try {
    body = event.data?.json() ?? {};
  } catch {
    // Not ours: still show something (a push that shows nothing costs the page its permission in some browsers).
  }
  const { title, text } = describe(body);
  event.waitUntil(self.registration.showNotification(title, { body: text, tag: body.deliveryId, data: body }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((tabs) => (tabs[0] ? tabs[0].focus() : self.clients.openWindow("./"))),
  );
});

function describe(body) {
  if (body.kind === "GroupMessage") {
    const data = body.message?.data ?? {};
    return { title: `${data.sender ?? "someone"} in ${body.message?.groupId ?? "a group"}`, text: data.text ?? "sent a message" };
  }
  if (body.kind === "SystemMessage") {
    const m = body.items?.[0]?.message ?? {};
    return { title: m.type ?? "Realtime", text: m.groupId ? `group ${m.groupId}` : "something happened" };
  }
  return { title: "Realtime", text: "new activity" };
}
