// live.js - keeps a foshub page up to date without reloading it.
//
// The page is rendered by the hub; this script opens its event stream
// (the same URL, asked for as text/event-stream) and puts the HTML of each
// section it receives in place, keeping open <details> open and the focus
// where it was. It says in #live-status whether the page is live or the
// connection is lost; EventSource reconnects by itself, and a stream the
// hub refused is tried again after 5 s. A "ping" every 15 s keeps a
// watchdog quiet: 45 s of silence counts as a lost connection.
(function () {
  'use strict';
  var body = document.body;
  var status = document.getElementById('live-status');
  var updated = document.getElementById('live-updated');
  var version = body.getAttribute('data-version');
  var source = null;
  var watchdog = null;
  var retry = null;

  function say(text, state) {
    if (!status) return;
    if (status.textContent !== text) status.textContent = text;
    status.setAttribute('data-state', state);
  }

  function lost(why) {
    say('Connection lost (' + why + '); reconnecting…', 'lost');
  }

  function arm() {
    clearTimeout(watchdog);
    watchdog = setTimeout(function () {
      lost('no word from the hub for 45 s');
      connect();
    }, 45000);
  }

  function apply(data) {
    var sections = data.sections || {};
    Object.keys(sections).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      var open = [];
      el.querySelectorAll('details[open][id]').forEach(function (d) {
        open.push(d.id);
      });
      var active = document.activeElement;
      var focused = active && active.id && el.contains(active) ? active.id : null;
      el.innerHTML = sections[id];
      open.forEach(function (d) {
        var again = document.getElementById(d);
        if (again) again.open = true;
      });
      if (focused) {
        var f = document.getElementById(focused);
        if (f) f.focus();
      }
    });
    version = data.version;
    body.setAttribute('data-version', version);
    body.setAttribute('data-updates', String(Number(body.getAttribute('data-updates') || 0) + 1));
    if (updated) updated.textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  function connect() {
    clearTimeout(retry);
    if (source) source.close();
    source = new EventSource(location.pathname + location.search);
    source.addEventListener('open', function () {
      say('Live: this page updates by itself', 'live');
      arm();
    });
    source.addEventListener('update', function (e) {
      arm();
      var data = JSON.parse(e.data);
      if (data.version !== version) apply(data);
    });
    source.addEventListener('ping', arm);
    source.addEventListener('close', function (e) {
      clearTimeout(watchdog);
      lost(e.data || 'the hub closed the stream');
    });
    source.addEventListener('error', function () {
      clearTimeout(watchdog);
      if (source.readyState === EventSource.CLOSED) {
        lost('the hub refused the stream');
        retry = setTimeout(connect, 5000);
      } else if (status && status.getAttribute('data-state') !== 'lost') {
        lost('the hub does not answer');
      }
    });
  }

  if (window.EventSource) connect();
  else say('This browser cannot follow live updates: reload to refresh', 'lost');
})();
