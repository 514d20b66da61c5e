// Tandem coach console: live queue and transcript (Server-Sent Events), SLA countdowns,
// template insertion, and logoff after inactivity. Pages work without it.
(function () {
  "use strict";
  var body = document.body;
  var skew = Date.parse(body.dataset.now) - Date.now(); // server clock minus ours
  var BG = { headers: { "X-Tandem-Background": "1" }, credentials: "same-origin" };

  function announce(text) {
    var el = document.getElementById("live-status");
    if (el) { el.textContent = text; }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("time.countdown[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - now) / 1000);
      var abs = Math.abs(left);
      var text = abs >= 3600
        ? Math.floor(abs / 3600) + " h " + pad(Math.floor(abs % 3600 / 60)) + " min"
        : Math.floor(abs / 60) + ":" + pad(abs % 60);
      el.textContent = left >= 0 ? text + " left" : "overdue " + text;
      el.classList.toggle("overdue", left < 0);
    });
  }

  // Automatic logoff: the server ends the session after this much inactivity; leave the page
  // before then so no health information stays on an unattended screen.
  var idleMs = parseInt(body.dataset.idleMs || "0", 10);
  if (idleMs > 0 && document.querySelector("form[action='/console/logout']")) {
    setTimeout(function () { window.location.href = "/console/login?expired=1"; }, idleMs);
  }

  // Responses can arrive out of order (an event's refresh overtaking the one started when the
  // feed opened): only the newest request for a target may write it, never an older one.
  var latest = {};
  function refresh(url, targetId, onDone) {
    var seq = (latest[targetId] || 0) + 1;
    latest[targetId] = seq;
    fetch(url, BG).then(function (resp) {
      if (resp.status === 401) { window.location.href = "/console/login?expired=1"; return null; }
      return resp.ok ? resp.text() : null;
    }).then(function (html) {
      var target = document.getElementById(targetId);
      if (html === null || !target || seq !== latest[targetId]) { return; }
      target.innerHTML = html; tick(); if (onDone) { onDone(target); }
    }).catch(function () { /* the next event or poll tries again */ });
  }

  var mode = body.dataset.live;
  var refreshQueue = function () {
    var before = {};
    document.querySelectorAll("#queue-rows tr[data-escalation]").forEach(function (tr) {
      before[tr.dataset.escalation] = true;
    });
    refresh("/console/queue/rows", "queue-rows", function (target) {
      var fresh = 0;
      target.querySelectorAll("tr[data-escalation]").forEach(function (tr) {
        if (!before[tr.dataset.escalation]) { tr.classList.add("fresh"); fresh += 1; }
      });
      if (fresh) { announce(fresh + " new escalation" + (fresh > 1 ? "s" : "") + " in the queue"); }
    });
  };
  var patient = body.dataset.patient;
  var refreshTranscript = function () {
    refresh("/console/patients/" + patient + "/transcript", "transcript", function (target) {
      target.scrollTop = target.scrollHeight;
    });
  };

  if (mode && window.EventSource) {
    var source = new EventSource("/console/events");
    var onEvent = function (event) {
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (mode === "queue" && event.type.indexOf("escalation_") === 0) { refreshQueue(); }
      if (mode === "patient" && data.patient_id === patient) { refreshTranscript(); }
    };
    ["escalation_opened", "escalation_updated", "takeover_started", "takeover_ended",
     "patient_message", "coach_message"].forEach(function (kind) {
      source.addEventListener(kind, onEvent);
    });
    // Events published while the feed was down (opening, reconnecting) are not replayed: catch
    // up from the database each time it opens. data-live-state tells tests the feed is up.
    source.addEventListener("open", function () {
      body.dataset.liveState = "open";
      if (mode === "queue") { refreshQueue(); }
      if (mode === "patient") { refreshTranscript(); }
    });
    source.addEventListener("error", function () { body.dataset.liveState = "reconnecting"; });
    source.addEventListener("logout", function () {
      source.close();
      window.location.href = "/console/login?expired=1";
    });
  }
  // Other processes publish their own events: poll now and then as well.
  if (mode === "queue") { setInterval(refreshQueue, 30000); }
  if (mode === "patient") {
    setInterval(refreshTranscript, 30000);
    var list = document.getElementById("transcript");
    if (list) { list.scrollTop = list.scrollHeight; }
  }

  document.querySelectorAll("select[data-template-target]").forEach(function (select) {
    select.addEventListener("change", function () {
      var area = document.getElementById(select.dataset.templateTarget);
      if (area && select.value) { area.value = select.value; area.focus(); }
    });
  });

  tick();
  setInterval(tick, 1000);
})();
