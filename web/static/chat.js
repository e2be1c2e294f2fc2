// Starts the chat widget (rasa-webchat on Rasa's socket.io channel) and makes its replies safer to read:
// escalation replies get a banner and tap-to-call numbers, quick replies work from the keyboard.
(function () {
  "use strict";
  var config = window.LIPTWITCH_CONFIG || {};
  var container = document.getElementById("webchat");
  var embedded = config.embedded !== false && Boolean(container);

  window.WebChat.default({
    socketUrl: config.socketUrl || window.location.protocol + "//" + window.location.hostname + ":5005",
    socketPath: "/socket.io/",
    title: "Lip Twitch Guide",
    subtitle: "General information, not a diagnosis",
    inputTextFieldHint: "Ask about lip twitching…",
    connectingText: "Connecting…",
    embedded: embedded,  // in the page's #webchat, or behind a button in the corner
    initPayload: "/greet",  // the first thing a person sees: what the assistant does, and the main topics
    showFullScreenButton: false,
    // The conversation survives a page reload: same session id, history kept in this browser.
    params: { storage: "local" },
    customData: { language: "en", country: config.country || null },
    customMessageDelay: function () { return 0; }
  }, embedded ? container : null);

  // Escalation replies and the safety-net question start with one of these signs (utter_emergency and friends,
  // utter_safety_net in domain.yml).
  var LEVELS = [
    { sign: "\uD83D\uDEA8", level: "emergency", label: "Emergency: act now" },
    { sign: "\uD83D\uDC9B", level: "crisis", label: "Support is available now" },
    { sign: "\u26A0\uFE0F", level: "urgent", label: "Get medical help today" },
    { sign: "\uD83E\uDE7A", level: "routine", label: "See a doctor soon" },
    { sign: "\u2753", level: "ask", label: "Quick safety check" }  // utter_safety_net: a question before the answer
  ];
  var PHONE = /\b(999|112|911|111|000|988|811|1737|116 ?123|116 ?117|NHS 111|13 11 14|1800 022 222|0800 611 116)\b/g;

  function levelOf(text) {
    for (var i = 0; i < LEVELS.length; i++) {
      if (text.indexOf(LEVELS[i].sign) === 0) { return LEVELS[i]; }
    }
    return null;
  }

  function linkPhoneNumbers(element) {
    var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT, null);
    var nodes = [];
    while (walker.nextNode()) { nodes.push(walker.currentNode); }
    nodes.forEach(function (node) {
      if (!PHONE.test(node.nodeValue) || (node.parentElement && node.parentElement.closest("a"))) { return; }
      PHONE.lastIndex = 0;
      var fragment = document.createDocumentFragment();
      var rest = node.nodeValue, match, last = 0;
      while ((match = PHONE.exec(rest)) !== null) {
        fragment.appendChild(document.createTextNode(rest.slice(last, match.index)));
        var link = document.createElement("a");
        link.href = "tel:" + match[0].replace(/[^0-9]/g, "");
        link.className = "tel-link";
        link.textContent = match[0];
        fragment.appendChild(link);
        last = match.index + match[0].length;
      }
      fragment.appendChild(document.createTextNode(rest.slice(last)));
      node.parentNode.replaceChild(fragment, node);
    });
  }

  function removeLeadingSign(element, sign) {
    var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT, null);
    while (walker.nextNode()) {
      var node = walker.currentNode;
      if (node.nodeValue.trim()) {
        if (node.nodeValue.trim().indexOf(sign) === 0) { node.nodeValue = node.nodeValue.replace(sign, "").trimStart(); }
        return;
      }
    }
  }

  function markEscalation(message) {
    if (message.dataset.checked) { return; }
    message.dataset.checked = "yes";
    var level = levelOf(message.textContent.trim());
    if (!level) { return; }
    message.classList.add("triage", "triage-" + level.level);
    message.setAttribute("role", "alert");
    removeLeadingSign(message, level.sign);  // the banner says it now, in words (before the banner is its first text)
    var banner = document.createElement("div");
    banner.className = "triage-banner";
    banner.textContent = level.label;
    message.insertBefore(banner, message.firstChild);
    linkPhoneNumbers(message);
  }

  // An answer's last line says where it comes from and whether a clinician has checked it ("Source: ... · not yet
  // clinically reviewed", actions/tracker_helpers.py): small print, under the answer.
  function markSourceLine(message) {
    message.querySelectorAll("p").forEach(function (paragraph) {
      if (paragraph.textContent.trim().indexOf("Source: ") === 0) { paragraph.classList.add("source-line"); }
    });
  }

  function makeRepliesKeyboardFriendly(reply) {
    if (reply.getAttribute("role") === "button") { return; }
    reply.setAttribute("role", "button");
    reply.setAttribute("tabindex", "0");
    reply.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); reply.click(); }
    });
  }

  function labelInput(root) {
    var input = root.querySelector(".rw-new-message");
    if (input && !input.getAttribute("aria-label")) { input.setAttribute("aria-label", "Your message"); }
    var send = root.querySelector(".rw-send");
    if (send && !send.getAttribute("aria-label")) { send.setAttribute("aria-label", "Send"); }
  }

  function chatRoot() {
    return document.getElementById("webchat") || document.getElementById("rasaWebchatPro") || document.body;
  }

  function tidy() {
    var root = chatRoot();
    root.querySelectorAll(".rw-response").forEach(markEscalation);
    root.querySelectorAll(".rw-response").forEach(markSourceLine);
    root.querySelectorAll(".rw-reply").forEach(makeRepliesKeyboardFriendly);
    labelInput(root);
  }

  new MutationObserver(tidy).observe(chatRoot(), { childList: true, subtree: true });
})();
