// One <script> that adds the Lip Twitch Guide chat to any page:
//   <script src="https://chat.example.org/static/embed.js" data-socket-url="https://rasa.example.org"
//           data-country="GB" async></script>
// It loads the widget and chat.js from the same server as itself. Without a <div id="webchat"> on
// the page, the chat opens from a button in the corner; with one, it is shown in place.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, window.location.href);
  var data = script.dataset;
  function configure() {
    var served = window.LIPTWITCH_CONFIG || {};  // from the chat server's /config.js
    window.LIPTWITCH_CONFIG = {
      socketUrl: data.socketUrl || served.socketUrl || base.protocol + "//" + base.hostname + ":5005",
      country: data.country || served.country || null,
      embedded: Boolean(document.getElementById("webchat"))
    };
  }
  function load(path, then) {
    var tag = document.createElement("script");
    tag.src = new URL(path, base).href;
    tag.onload = then;
    document.head.appendChild(tag);
  }
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("/static/widget.css", base).href;
  document.head.appendChild(css);
  load("/config.js", function () {
    configure();
    load("/vendor/rasa-webchat.js", function () { load("/static/chat.js"); });
  });
})();
