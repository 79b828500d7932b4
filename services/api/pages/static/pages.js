// Kartoteka pages: forms answer with fragments, the timeline loads more on scroll, the desk
// listens for screen-pops. Without this script every form still works as a plain post.
(function () {
  "use strict";
  var csrf = document.body.dataset.csrf || "";

  function fetchFragment(url, options) {
    options = options || {};
    options.headers = Object.assign({ "X-Partial": "1", "X-CSRF-Token": csrf }, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options).then(function (r) { return r.text().then(function (t) { return [r, t]; }); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.partial) return;
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) data.append(event.submitter.name, event.submitter.value);
    var get = (form.method || "get").toLowerCase() === "get";
    var url = form.action;
    if (get) {
      url += "?" + new URLSearchParams(data).toString();
      history.replaceState(null, "", url);
    }
    fetchFragment(url, get ? {} : { method: "POST", body: data }).then(function (answer) {
      var target = document.querySelector(form.dataset.partial);
      if (form.hasAttribute("data-replace")) target.outerHTML = answer[1]; else target.innerHTML = answer[1];
      var fresh = target.querySelector && target.querySelector("template[data-prepend]");
      var list = form.dataset.prepend && document.querySelector(form.dataset.prepend);
      if (fresh && list) list.insertBefore(fresh.content.cloneNode(true), list.firstChild);
      if (answer[0].ok && !get) form.querySelectorAll("textarea").forEach(function (t) { t.value = ""; });
    });
  });

  var watcher = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      var link = entry.target;
      watcher.unobserve(link);
      fetchFragment(link.href).then(function (answer) {
        var holder = link.closest("li");
        holder.insertAdjacentHTML("afterend", answer[1]);
        holder.remove();
        watchMore();
      });
    });
  }) : null;
  function watchMore() {
    if (watcher) document.querySelectorAll("a[data-more]").forEach(function (a) { watcher.observe(a); });
  }
  watchMore();

  var pop = document.getElementById("pop");
  if (pop && pop.dataset.events && "EventSource" in window) {
    var source = new EventSource(pop.dataset.events);  // reconnects by itself
    source.addEventListener("pop", function (event) {
      var call = JSON.parse(event.data);
      fetchFragment("/desk/customers/" + encodeURIComponent(call.customer_id) + "/summary")
        .then(function (answer) { if (answer[0].ok) pop.innerHTML = answer[1]; });
    });
    source.addEventListener("ended", function () { source.close(); });
  }
})();
